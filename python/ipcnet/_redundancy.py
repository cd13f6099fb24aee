# SPDX-License-Identifier: MIT
"""The values of ipcnet_redundancy.h (several providers of one path, requests
in a mode): Owner (Node.owner()), Answer and Answers (Node.request() with
mode= or request_id=).  Part of the ipcnet package; import them from there.
Since: 0.2"""
import collections

from ._ipcnet import status_str

Owner = collections.namedtuple("Owner", "owner owner_id strength self providers changes")
Owner.__doc__ = ("Who owns an owned path, as this node sees it (Node.owner(); "
                 "ipcn_owner_info in ipcnet_redundancy.h): the owner's node name and id, its "
                 "strength, self (this node owns it), the live providers ranked (this node "
                 "included) and the times the owner changed, as seen here.  Since: 0.2")
Answer = collections.namedtuple("Answer", "provider provider_id status message agrees")
Answer.__doc__ = ("One provider's part in a Node.request() to several providers: its node "
                  "name and id, its status (304 when it did not answer by the deadline, "
                  "303 when it left), its answer (a Message, or None) and, for a vote, "
                  "whether it agrees with the winner.  Since: 0.2")
REQUEST_MODES = {"any": 0, "all": 1, "vote": 2}  # ipcn_req_mode


class Answers:
    """The answers of a Node.request() in a mode (ipcn_answers in
    ipcnet_redundancy.h): .status (100; 104 for mode "all" when some did not
    answer), .request_id (pass it as request_id= to retry), .items (an
    Answer per provider asked, in the order asked; also by iterating),
    .winner (mode "any": the answer; "vote": one of the agreeing ones; else
    None), .value (the winner's value), .agreeing and .dissenting (vote:
    the answers equal to the winner, and those that came and differ).
    Since: 0.2"""

    __slots__ = ("status", "request_id", "items", "winner", "agreeing", "dissenting")

    def __init__(self, status, request_id, items, winner, agreeing, dissenting):
        self.status = status
        self.request_id = request_id
        self.items = [Answer(*t) for t in items]
        self.winner = winner
        self.agreeing = agreeing
        self.dissenting = dissenting

    @property
    def value(self):
        """The winner's value (None when there is no winner)."""
        return None if self.winner is None else self.winner.value

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    def __repr__(self):
        return "<ipcnet.Answers %d %s: %d asked, %d agreeing, %d dissenting>" % (
            self.status, status_str(self.status), len(self.items), self.agreeing,
            self.dissenting)
