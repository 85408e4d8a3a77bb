"""Why a request is made: one name per kind of request, and what each kind means to a harvest.

The harvesters name the purpose of every request they ask for; the crawler reads from it whether
an answer is a listing page, whether it completes a post found earlier, and which role the
answer plays in a post's evidence (the catalog's ``evidence[].role``). Those readings live here
once, not as lists of strings in each component.
"""

from __future__ import annotations

from enum import StrEnum


class Purpose(StrEnum):
    PROFILE = "profile"  # the account's profile (Weibo: also its first listing answer)
    TIMELINE = "timeline"  # a page of a Weibo account's posts
    LIST = "list"  # a page of a WeChat account's articles (API, backend, feed)
    TOKEN = "token"  # a WeChat access token: leads to the first list page
    LONG_TEXT = "long_text"  # the whole text of a post the listing cut short
    ARTICLE = "article"  # a WeChat article page: the post itself
    DETAIL = "detail"  # one post's own page (a repost's original)
    RECHECK = "recheck"  # a post captured earlier, asked again to see whether it is still there
    MEDIA = "media"  # a picture, video or sound of a new or edited post
    COMMENTS = "comments"

    @property
    def is_page(self) -> bool:
        """A page of the account's listing: counted in the summary, its posts committed at once."""
        return self in (Purpose.TIMELINE, Purpose.LIST)

    @property
    def leads_on(self) -> bool:
        """Its answer may name the listing's next page, which the harvest then follows."""
        return self in (Purpose.PROFILE, Purpose.TIMELINE, Purpose.LIST, Purpose.TOKEN)

    @property
    def completes_post(self) -> bool:
        """Asked to complete a post found earlier (the post waits for its answer)."""
        return self in (Purpose.LONG_TEXT, Purpose.ARTICLE, Purpose.RECHECK)

    @property
    def role(self) -> str:
        """The role of its answer in a post's evidence: what the post was read from."""
        if self in (Purpose.LONG_TEXT, Purpose.ARTICLE, Purpose.RECHECK, Purpose.DETAIL,
                    Purpose.MEDIA):
            return self.value
        return "listing"
