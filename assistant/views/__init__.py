from django.contrib.auth.models import User
from django.http import HttpRequest


class MemberRequest(HttpRequest):
    """A request that LoginRequiredMiddleware has let through: it always carries a member."""

    user: User
