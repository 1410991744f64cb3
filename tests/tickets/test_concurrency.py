"""Races on real database connections: one dispatch wins, numbers stay unique."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tickets import services
from tickets.choices import Channel, State
from tickets.errors import ApplicationError
from tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]


def _in_thread(work):
    """Run ``work`` on its own database connection, closing it afterwards."""

    def run(*args):
        try:
            return work(*args)
        finally:
            connection.close()

    return run


def test_given_two_dispatchers_racing_50_times_then_exactly_one_dispatch_wins_each_time(
    make_ticket, centre
):
    second_crew = centre.other_crew
    for _ in range(50):
        ticket = make_ticket(State.VERIFIED)
        barrier = threading.Barrier(2)

        @_in_thread
        def dispatch(crew, number=ticket.number, barrier=barrier):
            client = APIClient()
            client.force_authenticate(centre.dispatcher)
            barrier.wait(timeout=10)
            return client.post(
                f"/api/v1/tickets/{number}/dispatch/", {"crew": crew.code}, format="json"
            )

        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(dispatch, [centre.crew, second_crew]))

        codes = sorted(response.status_code for response in responses)
        assert codes == [200, 409], [r.json() for r in responses]
        loser = next(r for r in responses if r.status_code == 409).json()
        assert loser["state"] == State.DISPATCHED
        winner = next(r for r in responses if r.status_code == 200).json()
        ticket.refresh_from_db()
        assert ticket.state == State.DISPATCHED
        assert ticket.crew.code == winner["crew"]["code"]
        assert TicketEvent.objects.filter(ticket=ticket, action="dispatched").count() == 1


def test_given_100_calls_logged_at_once_then_every_ticket_gets_its_own_number(centre):
    @_in_thread
    def create(n):
        return services.ticket_create(
            actor=centre.agent,
            channel=Channel.HOTLINE,
            category=centre.leak.category,
            fault_type=centre.leak,
            description=f"第 {n} 个来电",
            caller_name="张先生",
            caller_phone="+8613812345678",
            address="锦华苑",
            building="1",
            unit="1",
        ).number

    with ThreadPoolExecutor(10) as pool:
        numbers = list(pool.map(create, range(100)))

    assert len(set(numbers)) == 100
    assert Ticket.objects.count() == 100
    assert TicketEvent.objects.filter(action="created").count() == 100
    sequences = sorted(int(number.split("-")[1]) for number in numbers)
    assert sequences == list(range(1, 101))


def test_given_two_approvers_racing_then_an_extension_is_decided_once(make_ticket, centre):
    from datetime import timedelta

    ticket = make_ticket(State.ACCEPTED)
    extension = services.extension_request(
        actor=centre.crew_member,
        ticket=ticket,
        milestone="arrive",
        requested_due=ticket.arrive_due + timedelta(hours=1),
        cause="objective",
        reason="材料短缺",
    )
    barrier = threading.Barrier(2)

    @_in_thread
    def decide(actor):
        barrier.wait(timeout=10)
        try:
            services.extension_decide(actor=actor, extension=extension, approve=True)
        except ApplicationError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(decide, [centre.crew_leader, centre.dispatcher]))
    assert results == ["conflict", "ok"]
    assert TicketEvent.objects.filter(ticket=ticket, action="extension_approved").count() == 1
