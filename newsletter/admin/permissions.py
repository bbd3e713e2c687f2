"""Who may see what in the directory admin."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.defaults import permission_denied
from wagtail.coreutils import resolve_model_string
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import policy_registry

ANY_ACCESS = ["add", "change", "delete", "view"]


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Allow viewing only: nobody, superusers included, adds, edits or deletes.

    Consent records are append-only proof and suppressions change only through
    the suppression services, so the admin shows them and never writes them.
    """

    def user_has_permission(self, user: Any, action: str) -> bool:
        if action in ("add", "change", "delete"):
            return False
        return super().user_has_permission(user, action)


class ModelAccessRequiredMixin:
    """Refuse a view to users with no permission at all on the view's model.

    Wagtail's chooser views and bulk-action pages check no model permission (the
    latter list the items the user may not act on); for contact data they must.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        model = resolve_model_string(self.model)  # type: ignore[attr-defined]
        policy = policy_registry.get_by_type(model)
        if not policy.user_has_any_permission(request.user, ANY_ACCESS):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def requires(
    test: Callable[[Any], bool],
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate an admin view to answer 403 unless ``test(user)`` holds."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # Answer 403 itself: Wagtail turns a raised PermissionDenied into
            # a redirect to the dashboard.
            if not test(request.user):
                return permission_denied(request, PermissionDenied())
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
