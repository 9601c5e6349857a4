"""Signals for the reverse direction of the module graph (DESIGN.md, "Dependency direction").

A lower module announces a change here and a higher one reacts, without the lower module
importing it: projects says its teams changed, chat keeps its team channels in step.
Receivers run synchronously, inside the sender's transaction, so what they write is
committed or rolled back together with the change itself.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the Project; team_ids: the ids of the teams about to be deleted (before the delete
# is flushed, so a receiver can still tell them apart from new teams that reuse their ids).
teams_replacing = _signals.signal("teams-replacing")
# sender: the Project; team: the renamed Team (its new name already set).
team_renamed = _signals.signal("team-renamed")
# sender: the Project; team: the Team; actor_id: who switched it; allowed: the new state.
direct_messages_changed = _signals.signal("direct-messages-changed")
# sender: the Project; class_id: a partner class that has just come in by a link (flushed). The
# matching module fills what the teachers have not set yet from the classes' profiles.
partner_class_added = _signals.signal("partner-class-added")
# sender: the SchoolClass whose ISCED-F field (isced_code) its teacher has just changed; matching
# gives the class's partner profile the same field (the profile never asks for it again).
class_field_changed = _signals.signal("class-field-changed")
# sender: the user id of a person who lost access to shared spaces (a pupil left a class or
# moved to another team, an outside member was taken out, or their account was removed).
# Receivers act after the commit: realtime ends their open sockets then
# (app/realtime/revoke.py), so no room keeps broadcasting to them.
access_reduced = _signals.signal("access-reduced")
# sender: the user id whose login sessions have just been ended (logout, a password change, a
# new login card, a disabled account, idle or lifetime); session_ids: the ended UserSession
# ids. Sent inside the transaction; realtime disconnects those sessions' sockets after the
# commit (app/realtime/revoke.py), so a socket of an ended login stops hearing at once.
sessions_ended = _signals.signal("sessions-ended")
# sender: the user id of a socket that has just disconnected; sid: that socket; rooms: the rooms
# it was in (taken before it leaves them); open_sockets: how many the user still has open on every
# process (presence registry), 0 when they have just gone offline. Sent from the realtime
# disconnect handler (app/realtime/sockets.py), outside any transaction.
socket_left = _signals.signal("socket-left")
# sender: the User, a teacher whose registration a coordinator or admin has just validated.
# Sent inside the transaction; notifications tells them (in the app and by e-mail).
teacher_validated = _signals.signal("teacher-validated")
# sender: the ClassJoinRequest of a pupil who has just joined a class with a code that needs the
# teacher's approval (flushed). Sent inside the transaction; notifications tells the teacher.
pupil_waiting = _signals.signal("pupil-waiting")
