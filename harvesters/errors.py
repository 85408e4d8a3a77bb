"""Exceptions of the harvesters; their messages are written for archivists, one sentence each.

``HarvestError`` is the base. ``HarvestProblem`` and its kinds describe what the platform said
that stops (or pauses) a harvest; a parser returns them in ``ParseResult.problem`` rather than
raising, so that the crawler can still archive the response that carried them. Each kind has an
``advice`` sentence telling the archivist what to do.
"""

from __future__ import annotations


class HarvestError(Exception):
    """A response that weidang cannot read as the platform answer it expected."""


class UnsupportedResponse(HarvestError):
    """A real platform format that weidang recognises but deliberately does not read (yet)."""


class HarvestProblem(HarvestError):
    """The platform answered, but with a refusal or an error rather than content."""

    kind = "problem"
    advice = "Look at the archived response to see what the platform said."

    def __init__(self, reason: str, *, url: str = "", advice: str | None = None) -> None:
        self.reason = reason
        self.url = url
        if advice is not None:
            self.advice = advice
        super().__init__(self.sentence())

    def what(self) -> str:
        """What the platform said and where, without the advice."""
        return f"{self.reason} (at {self.url})" if self.url else self.reason

    def sentence(self) -> str:
        return f"{self.what()}. {self.advice}"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "reason": self.reason, "url": self.url, "advice": self.advice}


class RateLimited(HarvestProblem):
    """The platform throttles this machine or account; every request will fail for a while."""

    kind = "rate_limited"
    advice = ("Pause harvesting this platform for a few hours before trying again; "
              "harvest fewer accounts at once or less often if it keeps happening.")


class CaptchaRequired(HarvestProblem):
    """The platform wants a person to solve a captcha before it answers again."""

    kind = "captcha_required"
    advice = ("Open the platform in a browser with the harvest account, solve the check it shows, "
              "then copy the new cookie into the credentials file.")


class LoginExpired(HarvestProblem):
    """The cookie, session token or access token is no longer accepted."""

    kind = "login_expired"
    advice = "Log in again and copy the new login into the credentials file."


class Unavailable(HarvestProblem):
    """One post (or a whole account) can no longer be seen: deleted, blocked or expired."""

    kind = "unavailable"
    advice = ("Keep the copies already archived; the archived response records what the "
              "platform showed instead of the post.")

    def __init__(self, reason: str, *, url: str = "", status: str = "deleted",
                 advice: str | None = None) -> None:
        self.status = status
        super().__init__(reason, url=url, advice=advice)

    def to_json(self) -> dict[str, str]:
        return {**super().to_json(), "status": self.status}


class PlatformError(HarvestProblem):
    """An error answer that fits none of the known kinds (a 5xx, an unknown error code)."""

    kind = "platform_error"
    advice = "Try again later; if it keeps happening, the platform may have changed its interface."
