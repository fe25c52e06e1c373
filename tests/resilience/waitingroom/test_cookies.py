"""Tickets and passes: signed, aged, single-use where it matters; a forged one is no cookie at all."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core import signing
from django.http import HttpResponse
from django.test import RequestFactory

from resilience.testing import room_fill
from resilience.waitingroom import cookies
from tests.resilience.waitingroom.helpers import CATALOG, is_queued, position, room, visitor

pytestmark = pytest.mark.django_db


def carrying(response: HttpResponse, name: str):
    """The next request of the browser that got ``response``."""
    return RequestFactory().get("/", HTTP_COOKIE=f"{name}={response.cookies[name].value}")


def test_a_signed_ticket_and_pass_read_back_and_a_pass_replaces_the_ticket():
    response = HttpResponse()
    cookies.ticket_sign(response, cookies.Ticket("abc", 7))
    assert cookies.ticket_read(carrying(response, cookies.TICKET_COOKIE)) == cookies.Ticket("abc", 7)

    cookies.pass_sign(response, "abc", 900, "n1")
    admitted = cookies.pass_read(carrying(response, cookies.PASS_COOKIE), 900)

    assert (admitted.visitor, admitted.nonce) == ("abc", "n1")
    assert response.cookies[cookies.TICKET_COOKIE].value == ""  # the ticket is used up
    assert (
        response.cookies[cookies.PASS_COOKIE]["httponly"] and response.cookies[cookies.PASS_COOKIE]["samesite"] == "Lax"
    )


@room("on", total_active_users=5)
def test_a_copied_pass_admits_one_visitor_once_either_holder_renews_it(product, settings):
    settings.RESILIENCE_WAITINGROOM_RENEW_AFTER_SECONDS = 0  # every request renews the pass
    member = visitor("198.51.100.1")
    member.get(CATALOG)
    assert not is_queued(member.get(CATALOG))
    copy = visitor("198.51.100.2")
    copy.cookies[cookies.PASS_COOKIE] = member.cookies[cookies.PASS_COOKIE].value

    assert not is_queued(member.get(CATALOG))  # renewed: the pass's nonce moves on
    assert is_queued(copy.get(CATALOG))  # the copy's nonce is stale: the back of the queue
    assert not is_queued(member.get(CATALOG))
    assert cookies.TICKET_COOKIE in copy.cookies  # the copy now waits with a ticket of its own


@room("on", total_active_users=1)
def test_a_tampered_ticket_goes_to_the_back_of_the_queue(product):
    room_fill(1)
    for n in range(4):
        visitor(f"198.51.100.{n}").get(CATALOG)
    cheat = visitor("203.0.113.66")
    first = cheat.get(CATALOG)
    assert position(first) == 5
    ticket = first.cookies[cookies.TICKET_COOKIE].value
    forged = signing.dumps({"t": "someone-else", "p": 1}, salt="wrong-salt")

    cheat.cookies[cookies.TICKET_COOKIE] = ticket[:-3] + "abc"
    assert position(cheat.get(CATALOG)) == 6  # a new ticket, behind everyone
    cheat.cookies[cookies.TICKET_COOKIE] = forged
    assert position(cheat.get(CATALOG)) == 7


@room("on", total_active_users=1)
def test_an_expired_ticket_goes_to_the_back_of_the_queue(product, settings):
    room_fill(1)
    late = visitor("203.0.113.66")
    assert position(late.get(CATALOG)) == 1
    visitor("198.51.100.9").get(CATALOG)

    settings.RESILIENCE_WAITINGROOM_TICKET_MAX_AGE_SECONDS = 0

    assert position(late.get(CATALOG)) == 3  # a new ticket, behind the one who came after


@room("on", total_active_users=5)
def test_a_tampered_or_expired_pass_is_not_honoured(product):
    member = visitor()
    member.get(CATALOG)
    assert not is_queued(member.get(CATALOG))
    good = member.cookies[cookies.PASS_COOKIE].value

    member.cookies[cookies.PASS_COOKIE] = good[:-2] + "xx"
    assert is_queued(member.get(CATALOG))

    stale = visitor("198.51.100.3")
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3600):
        stale.cookies[cookies.PASS_COOKIE] = signing.dumps(
            {"v": "x", "i": time.time() - 3600, "n": ""}, salt=cookies.PASS_SALT
        )
    assert is_queued(stale.get(CATALOG))
