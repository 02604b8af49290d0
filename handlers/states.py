"""Every FSM state group of the bot, in one module."""

from aiogram.fsm.state import State, StatesGroup


class Intake(StatesGroup):
    """The PAKN intake conversation (private chat)."""

    kind = State()
    content = State()
    complaint = State()
    attachments = State()
    procedure = State()
    reuse = State()
    name = State()
    contact = State()
    address = State()
    summary = State()


class CitizenReply(StatesGroup):
    """A citizen adding an optional comment to a rating (extra information comes as a reply)."""

    rating_comment = State()
