"""The two calls of scrapyd's HTTP API the runner needs: ``schedule.json`` and ``listjobs.json``.

Plain ``urllib``: scrapyd's API is form posts and JSON answers. A scrapyd that cannot be reached,
answers with an error status or ``{"status": "error"}`` (say the project was never deployed) is
one :class:`ScrapydError` line naming the URL and the reason.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

DEFAULT_URL = "http://127.0.0.1:6800/"


class ScrapydError(RuntimeError):
    """scrapyd could not be asked, or said no."""


@dataclass(frozen=True)
class ScrapydJob:
    """A job as ``listjobs.json`` lists it: ``state`` is pending, running or finished."""

    id: str
    spider: str
    state: str
    args: dict[str, str] = field(default_factory=dict)


class Scrapyd:
    """A scrapyd at ``url`` serving ``project``."""

    def __init__(self, url: str, project: str, timeout: float = 30.0) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.project = project
        self.timeout = timeout

    def schedule(
        self, spider: str, jobid: str, args: dict[str, str], settings: dict[str, str]
    ) -> str:
        """Queue a crawl of ``spider`` as job ``jobid``; return the job id scrapyd gives."""
        fields = [("project", self.project), ("spider", spider), ("jobid", jobid)]
        fields += [("setting", f"{name}={value}") for name, value in settings.items()]
        fields += list(args.items())
        answer = self._call("schedule.json", urllib.parse.urlencode(fields).encode())
        return answer.get("jobid", jobid)

    def jobs(self) -> dict[str, ScrapydJob]:
        """The project's pending, running and finished jobs by id."""
        query = urllib.parse.urlencode({"project": self.project})
        answer = self._call(f"listjobs.json?{query}")
        jobs = {}
        for state in ("finished", "running", "pending"):  # a later state of one id wins
            for job in answer.get(state, []):
                jobs[job["id"]] = ScrapydJob(job["id"], job.get("spider", ""), state,
                                             job.get("args") or {})
        return jobs

    def _call(self, path: str, data: bytes | None = None) -> dict:
        url = self.url + path
        try:
            with urllib.request.urlopen(url, data=data, timeout=self.timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise ScrapydError(f"scrapyd {url}: HTTP {error.code} {error.reason}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise ScrapydError(f"scrapyd {self.url}: cannot connect ({reason})") from None
        except ValueError as error:
            raise ScrapydError(f"scrapyd {url}: not a JSON answer ({error})") from None
        if answer.get("status") != "ok":
            message = answer.get("message", answer)
            hint = (" (deploy it: .venv/bin/scrapyd-deploy)"
                    if "not found" in str(message) else "")
            raise ScrapydError(f"scrapyd {url}: {message}{hint}")
        return answer
