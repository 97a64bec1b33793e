"""The offer directory search: filters, sorting, pagination, and constant query count."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from tests.builders import (
    bearer_for,
    build_broker,
    build_offer,
    build_person_user,
    build_provider,
)


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


@contextmanager
def counting_queries(db_session) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    statements: list[str] = []
    engine = db_session.get_bind().engine

    def before(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_only_published_offers_of_verified_providers(client, db_session) -> None:  # type: ignore[no-untyped-def]
    visible = build_offer(db_session, title="Visible")
    build_offer(db_session, status="draft")
    build_offer(db_session, status="withdrawn")
    build_offer(db_session, organisation=build_provider(db_session, status="suspended"))
    build_offer(db_session, organisation=build_provider(db_session, status="unverified"))
    headers = bearer_for(db_session, build_person_user(db_session))
    assert ids(client.get("/v1/offers?limit=100", headers=headers)) == [visible.id]


def test_filters(client, db_session) -> None:  # type: ignore[no-untyped-def]
    pa_ls6 = build_offer(db_session, price_pence=1800, areas=("LS6",))
    pa_ls7 = build_offer(db_session, price_pence=2200, areas=("LS7",))
    therapy_online = build_offer(
        db_session,
        category="therapy",
        price_pence=4500,
        delivers_in_person=False,
        delivers_online=True,
        areas=(),
    )
    council = build_offer(db_session, category="activities", areas=("E08000035",))
    headers = bearer_for(db_session, build_person_user(db_session))

    def search(query: str) -> set[str]:
        return set(ids(client.get(f"/v1/offers?limit=100&{query}", headers=headers)))

    assert search("category=therapy") == {therapy_online.id}
    assert search("area=ls6") == {pa_ls6.id, therapy_online.id}
    assert search("area=LS6&delivery_mode=in_person") == {pa_ls6.id}
    assert search("area=E08000035&delivery_mode=in_person") == {council.id}
    assert search("delivery_mode=online") == {therapy_online.id}
    assert search("max_price=2000&category=personal_assistant") == {pa_ls6.id}
    assert search("max_price=2200&category=personal_assistant") == {pa_ls6.id, pa_ls7.id}
    pa_ls7.accepting_new_people = False
    db_session.flush()
    assert pa_ls7.id not in search("accepting_new_people=true")
    assert search("accepting_new_people=false") == {pa_ls7.id}
    for bad in ("area=Leeds", "category=alcohol", "max_price=-1", "sort=cheapest"):
        assert client.get(f"/v1/offers?{bad}", headers=headers).status_code == 422, bad


def test_area_from_the_persons_own_postcode(client, db_session) -> None:  # type: ignore[no-untyped-def]
    near = build_offer(db_session, areas=("LS6",))
    build_offer(db_session, areas=("BD1",))
    broker = build_broker(db_session)
    person_user = build_person_user(db_session, postcode="LS6 2AB", broker_id=broker.id)
    own = bearer_for(db_session, person_user)
    url = f"/v1/offers?person_id={person_user.person_id}"
    assert ids(client.get(url, headers=own)) == [near.id]
    assert ids(client.get(url, headers=bearer_for(db_session, broker))) == [near.id]
    stranger = bearer_for(db_session, build_person_user(db_session))
    assert client.get(url, headers=stranger).status_code == 404
    both = client.get(f"{url}&area=LS6", headers=own)
    assert both.status_code == 422


def test_free_text_relevance_and_price_sort(client, db_session) -> None:  # type: ignore[no-untyped-def]
    in_title = build_offer(
        db_session, title="Swimming lessons", description="In a warm pool.", price_pence=3000
    )
    in_description = build_offer(
        db_session, title="Leisure club", description="Swimming and gym sessions.", price_pence=1000
    )
    build_offer(db_session, title="Gardening", description="Weeding and planting.")
    headers = bearer_for(db_session, build_person_user(db_session))
    assert ids(client.get("/v1/offers?q=swimming", headers=headers)) == [
        in_title.id,
        in_description.id,
    ]
    assert ids(client.get("/v1/offers?q=swimming&sort=price", headers=headers)) == [
        in_description.id,
        in_title.id,
    ]
    assert ids(client.get("/v1/offers?q=100%25_", headers=headers)) == []


def test_pagination_walks_every_offer_once_in_each_order(client, db_session) -> None:  # type: ignore[no-untyped-def]
    made = {
        build_offer(db_session, title=f"Swimming {n}", price_pence=1000 + (n % 3) * 100).id
        for n in range(7)
    }
    headers = bearer_for(db_session, build_person_user(db_session))
    for query in ("sort=price", "sort=relevance", "q=swimming", "q=swimming&sort=price"):
        seen: list[str] = []
        cursor = None
        while True:
            url = f"/v1/offers?limit=3&{query}" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(url, headers=headers).json
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(made), query
    first = client.get("/v1/offers?limit=3&sort=price", headers=headers).json
    foreign = client.get(
        f"/v1/offers?limit=3&sort=relevance&cursor={first['next_cursor']}", headers=headers
    )
    assert foreign.status_code == 400


def test_query_count_does_not_grow_with_page_size(client, db_session) -> None:  # type: ignore[no-untyped-def]
    for n in range(12):
        build_offer(db_session, title=f"Swimming {n}", areas=("LS6", "LS7"))
    headers = bearer_for(db_session, build_person_user(db_session))
    counts = []
    for limit in (2, 12):
        client.get("/v1/offers?limit=1", headers=headers)  # warm the token lookup caches
        with counting_queries(db_session) as statements:
            response = client.get(f"/v1/offers?limit={limit}&q=swimming&area=LS6", headers=headers)
        assert len(response.json["items"]) == limit
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_search_items_are_exactly_what_reading_each_offer_answers(client, db_session) -> None:  # type: ignore[no-untyped-def]
    """The search dumps plain rows; a single offer is read through the ORM."""
    from budgets.providers.offers.models import OfferArea

    build_offer(db_session, areas=("LS7", "LS6", "LS1"), languages=["en", "pl"], capacity=3)
    build_offer(
        db_session,
        category="therapy",
        delivers_in_person=False,
        delivers_online=True,
        areas=(),
        cancellation_notice_hours=48,
        cancellation_charge_percent=50,
    )
    at_premises = build_offer(
        db_session, delivers_at_premises=True, premises_postcode="LS6 1AA", areas=("LS8",)
    )
    db_session.add(OfferArea(offer_id=at_premises.id, via="at_premises", code="LS6"))
    db_session.flush()
    headers = bearer_for(db_session, build_person_user(db_session))
    for query in ("limit=100", "limit=100&sort=price", "q=support&limit=100"):
        items = client.get(f"/v1/offers?{query}", headers=headers).json["items"]
        assert len(items) == 3
        for item in items:
            assert item == client.get(f"/v1/offers/{item['id']}", headers=headers).json
