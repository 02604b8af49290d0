"""An official's answer on its way to the citizen: preview, confirmation, and (where the
agency requires it) the lead's approval.

The answer is the agency's official word, and under NĐ 20/2008/NĐ-CP the head of the agency
answers for it: nothing reaches the citizen before the official confirms the preview (Gửi),
and, for an agency with `approval` on, before one of its approvers approves it. Every step
is in the case's history: who wrote the answer, who approved or returned it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cases import Actor, CaseService
from bot.domain.errors import NotAllowed, UserFacingError
from bot.domain.events import AnswerAwaitingApproval, AnswerReturned
from bot.domain.intake import clean_text
from bot.domain.statuses import OPEN_STATUSES
from storage.models import AnswerDraft, Case
from storage.repositories import AgencyRepo, AnswerDraftRepo, ApproverRepo

# Telegram refuses a message over 4,096 characters; the answer template adds a header.
MAX_ANSWER_CHARS = 3500


class AnswerDesk:
    """Drafts of answers: the steps between an official's reply and the citizen."""

    def __init__(self, cases: CaseService, admin_ids: Collection[int]) -> None:
        self.cases = cases
        self.admin_ids = frozenset(admin_ids)

    @property
    def clock(self) -> Any:
        return self.cases.clock

    async def draft(
        self,
        session: AsyncSession,
        case: Case,
        official: Actor,
        *,
        chat_id: int,
        text: str,
        attachments: Sequence[dict[str, Any]] = (),
        media_group_id: str | None = None,
    ) -> tuple[AnswerDraft, bool]:
        """A new draft for the preview, or the open one this album part belongs to (then
        False): Telegram delivers each photo of an album as its own message."""
        if case.status not in OPEN_STATUSES:
            raise NotAllowed("case.not_open", code=case.code)
        assert official.id is not None
        text = clean_text(text)[:MAX_ANSWER_CHARS]
        now = self.clock.now()
        drafts = AnswerDraftRepo(session)
        if media_group_id:
            album = await drafts.open_album(case.id, official.id, media_group_id)
            if album is not None:
                album.attachments = [*album.attachments, *attachments]
                album.text = album.text or text
                album.updated_at = now
                await session.flush()
                return album, False
        if not text and not attachments:
            raise UserFacingError("answer.empty")
        draft = AnswerDraft(
            case_id=case.id,
            chat_id=chat_id,
            author_id=official.id,
            author_name=official.name or "",
            text=text,
            attachments=list(attachments),
            media_group_id=media_group_id,
            status="preview",
            created_at=now,
            updated_at=now,
        )
        return await drafts.add(draft), True

    async def get(self, session: AsyncSession, draft_id: int) -> AnswerDraft:
        """A draft by id, or a clear refusal."""
        draft = await AnswerDraftRepo(session).get(draft_id)
        if draft is None:
            raise UserFacingError("answer.draft_closed")
        return draft

    def _author_only(self, draft: AnswerDraft, actor: Actor) -> None:
        if actor.id != draft.author_id and actor.id not in self.admin_ids:
            raise NotAllowed("answer.not_author", name=draft.author_name)

    @staticmethod
    def _expect(draft: AnswerDraft, *statuses: str) -> None:
        if draft.status not in statuses:
            raise UserFacingError(f"answer.draft_{draft.status}")

    def check_can_edit(self, draft: AnswerDraft, actor: Actor) -> None:
        """Refuse before asking for a new text when this person may not edit the draft."""
        self._author_only(draft, actor)
        self._expect(draft, "preview")

    async def edit(
        self, session: AsyncSession, draft: AnswerDraft, actor: Actor, text: str
    ) -> AnswerDraft:
        """ "Sửa": the author replaces the text (attachments stay)."""
        self._author_only(draft, actor)
        self._expect(draft, "preview")
        text = clean_text(text)[:MAX_ANSWER_CHARS]
        if not text and not draft.attachments:
            raise UserFacingError("answer.empty")
        draft.text, draft.updated_at = text, self.clock.now()
        await session.flush()
        return draft

    async def cancel(self, session: AsyncSession, draft: AnswerDraft, actor: Actor) -> None:
        """ "Hủy": nothing is sent (a draft waiting for approval can be withdrawn too)."""
        self._author_only(draft, actor)
        self._expect(draft, "preview", "awaiting_approval")
        draft.status, draft.updated_at = "cancelled", self.clock.now()
        await session.flush()

    async def confirm(
        self, session: AsyncSession, draft: AnswerDraft, case: Case, actor: Actor
    ) -> bool:
        """ "Gửi": the answer goes to the citizen, or to the lead first when the agency
        requires approval. True when it reached the citizen now."""
        self._author_only(draft, actor)
        self._expect(draft, "preview")
        if case.status not in OPEN_STATUSES:
            raise NotAllowed("case.not_open", code=case.code)
        agency = await AgencyRepo(session).get(case.agency)
        author = Actor("official", draft.author_id, draft.author_name)
        draft.updated_at = self.clock.now()
        if agency is not None and agency.approval:
            draft.status = "awaiting_approval"
            self.cases.record_event(
                session,
                case,
                author,
                "answer_drafted",
                case.status,
                case.status,
                {"draft": draft.id, "text": draft.text, "attachments": len(draft.attachments)},
            )
            await session.flush()
            await self.cases.events.publish(session, AnswerAwaitingApproval(case, draft))
            return False
        draft.status = "sent"
        await self.cases.answer(session, case, author, draft.text, draft.attachments)
        return True

    async def may_approve(self, session: AsyncSession, case: Case, user_id: int) -> bool:
        """The agency's listed approvers, and admins, may approve its answers."""
        return user_id in self.admin_ids or await ApproverRepo(session).is_approver(
            case.agency, user_id
        )

    async def approve(
        self, session: AsyncSession, draft: AnswerDraft, case: Case, approver: Actor
    ) -> None:
        """The lead approves: the answer reaches the citizen, with both names in the history."""
        assert approver.id is not None
        if not await self.may_approve(session, case, approver.id):
            raise NotAllowed("answer.not_approver")
        self._expect(draft, "awaiting_approval")
        draft.status, draft.updated_at = "sent", self.clock.now()
        draft.approver_id, draft.approver_name = approver.id, approver.name
        self.cases.record_event(
            session,
            case,
            approver,
            "answer_approved",
            case.status,
            case.status,
            {"draft": draft.id},
        )
        author = Actor("official", draft.author_id, draft.author_name)
        await self.cases.answer(
            session, case, author, draft.text, draft.attachments, approved_by=approver
        )

    async def check_can_return(
        self, session: AsyncSession, draft: AnswerDraft, case: Case, approver: Actor
    ) -> None:
        """Refuse before asking for a comment when this person may not return the draft."""
        assert approver.id is not None
        if not await self.may_approve(session, case, approver.id):
            raise NotAllowed("answer.not_approver")
        self._expect(draft, "awaiting_approval")

    async def give_back(
        self, session: AsyncSession, draft: AnswerDraft, case: Case, approver: Actor, comment: str
    ) -> None:
        """The lead returns the draft with a comment; its author writes a new one."""
        await self.check_can_return(session, draft, case, approver)
        draft.status, draft.updated_at = "returned", self.clock.now()
        draft.approver_id, draft.approver_name = approver.id, approver.name
        draft.comment = clean_text(comment)[:1000]
        self.cases.record_event(
            session,
            case,
            approver,
            "answer_returned",
            case.status,
            case.status,
            {"draft": draft.id, "comment": draft.comment},
        )
        await session.flush()
        await self.cases.events.publish(session, AnswerReturned(case, draft))
