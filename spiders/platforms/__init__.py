"""What several sites share because they run on the same CMS: one module per CMS.

A site module still names every site-specific value; a platform module holds the selectors and
URL shapes its sites have in common, so that a fix to the CMS's markup is made once.
"""
