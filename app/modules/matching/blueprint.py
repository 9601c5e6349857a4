"""Routes of partner matching, as one flat list."""

from flask import Blueprint

from app.modules.matching import controllers as c

bp = Blueprint("matching", __name__)

bp.add_url_rule("/partners", "index", c.index)
bp.add_url_rule("/partners/classes/<int:class_id>/profile", "profile", c.profile, methods=["GET", "POST"])
bp.add_url_rule("/partners/classes/<int:class_id>/suggestions", "suggestions", c.suggestions)
bp.add_url_rule("/partners/classes/<int:class_id>/invite/<int:partner_id>", "invite", c.invite, methods=["GET", "POST"])
bp.add_url_rule("/partners/invitations", "invitations", c.invitations)
bp.add_url_rule("/partners/invitations/<int:invitation_id>", "invitation", c.invitation)
bp.add_url_rule(
    "/partners/invitations/<int:invitation_id>/<action>", "answer_invitation", c.answer_invitation, methods=["POST"]
)
bp.add_url_rule("/partners/rounds", "rounds", c.rounds)
bp.add_url_rule("/partners/rounds/new", "new_round", c.new_round, methods=["GET", "POST"])
bp.add_url_rule("/partners/rounds/<int:round_id>", "round_detail", c.round_detail)
bp.add_url_rule("/partners/rounds/<int:round_id>/opt-in", "opt_in", c.opt_in, methods=["POST"])
bp.add_url_rule("/partners/rounds/<int:round_id>/opt-out/<int:class_id>", "opt_out", c.opt_out, methods=["POST"])
bp.add_url_rule("/partners/rounds/<int:round_id>/compute", "compute_round", c.compute_round, methods=["POST"])
bp.add_url_rule(
    "/partners/proposals/<int:proposal_id>/<int:class_id>/<action>",
    "answer_proposal",
    c.answer_proposal,
    methods=["POST"],
)
