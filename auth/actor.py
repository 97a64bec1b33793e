"""Who is making a request, as services see it: never a Flask object."""

from __future__ import annotations

from dataclasses import dataclass, field

from auth.roles import Role


@dataclass(frozen=True)
class Actor:
    """The caller: a signed-in user (possibly acting for others) or a back-office client."""

    user_id: str | None
    client_id: str | None
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    person_id: str | None = None
    represented_person_ids: frozenset[str] = field(default_factory=frozenset)
    organisation_ids: frozenset[str] = field(default_factory=frozenset)
    commissioner_id: str | None = None

    def has_role(self, *roles: Role | str) -> bool:
        return any(str(role) in self.roles for role in roles)

    @property
    def is_back_office_client(self) -> bool:
        """A provider system using the client credentials grant, with no user behind it."""
        return self.user_id is None and self.client_id is not None

    @property
    def own_person_ids(self) -> frozenset[str]:
        """The people whose records this actor holds as their own or as representative."""
        own = {self.person_id} if self.person_id else set()
        return frozenset(own) | self.represented_person_ids
