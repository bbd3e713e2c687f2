"""The contact directory in the Wagtail admin: listing, search, filters, edit, GDPR."""

from __future__ import annotations

import json
from functools import reduce
from operator import or_
from typing import Any

import django_filters
from django import forms
from django.contrib.admin.utils import quote, unquote
from django.db.models import Exists, OuterRef, ProtectedError, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets import BooleanRadioSelect, Button
from wagtail.log_actions import log
from wagtail.snippets.views import chooser as snippet_chooser
from wagtail.snippets.views.snippets import (
    DeleteView,
    EditView,
    IndexView,
    SnippetViewSet,
)

from newsletter.audience.gdpr import contact_erase, contact_export_data
from newsletter.locales import country_name, language_choices
from newsletter.models import Contact, MailingList, Subscription, Topic

from .forms import ContactAdminForm, localised_country_choices, parliament_choices
from .permissions import ModelAccessRequiredMixin

SEARCH_FIELDS = ["first_name", "last_name", "email", "organisation", "parliament"]


class ContactFilterSet(WagtailFilterSet):
    kind = django_filters.MultipleChoiceFilter(
        label=_("Kind"),
        choices=Contact.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    country = django_filters.MultipleChoiceFilter(
        label=_("Country"), choices=localised_country_choices
    )
    parliament = django_filters.MultipleChoiceFilter(
        label=_("Parliament"), choices=parliament_choices
    )
    language = django_filters.MultipleChoiceFilter(
        label=_("Preferred language"),
        field_name="preferred_language",
        choices=language_choices,
    )
    topic = django_filters.ModelMultipleChoiceFilter(
        label=_("Topic"),
        field_name="topics",
        queryset=Topic.objects.all(),
        distinct=True,
        widget=forms.CheckboxSelectMultiple,
    )
    is_focal_point = django_filters.BooleanFilter(
        label=_("Focal point"), widget=BooleanRadioSelect
    )
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"),
        choices=Contact.Status.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    mailing_list = django_filters.ModelChoiceFilter(
        label=_("Subscribed to"),
        queryset=MailingList.objects.all(),
        method="filter_mailing_list",
    )

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_mailing_list(
        self, queryset: QuerySet[Contact], name: str, value: MailingList | None
    ) -> QuerySet[Contact]:
        if value is None:
            return queryset
        return queryset.filter(
            Exists(
                Subscription.objects.filter(
                    contact_id=OuterRef("pk"),
                    mailing_list=value,
                    status=Subscription.Status.SUBSCRIBED,
                )
            )
        )


class ContactIndexView(IndexView):
    def search_queryset(self, queryset: QuerySet[Contact]) -> QuerySet[Contact]:
        """Match every word of the query in any searchable field (ORM only)."""
        if not self.is_searching:
            return queryset
        for word in self.search_query.split()[:10]:
            queryset = queryset.filter(
                reduce(
                    or_, (Q(**{f"{name}__icontains": word}) for name in SEARCH_FIELDS)
                )
            )
        return queryset

    def _get_title_column(self, field_name: str, *args: Any, **kwargs: Any) -> Any:
        if field_name == "full_name":
            kwargs["accessor"] = lambda contact: contact.full_name or "—"
        return super()._get_title_column(field_name, *args, **kwargs)


class ContactEditView(EditView):
    @cached_property
    def header_more_buttons(self) -> list[Button]:
        buttons = list(super().header_more_buttons)
        viewset = self.model.snippet_viewset
        pk = quote(self.object.pk)
        buttons.append(
            Button(
                gettext("Export data (JSON)"),
                url=reverse(viewset.get_url_name("gdpr_export"), args=[pk]),
                icon_name="download",
                priority=40,
            )
        )
        if self.user_has_permission("delete"):
            buttons.append(
                Button(
                    gettext("Erase"),
                    url=reverse(viewset.get_url_name("erase"), args=[pk]),
                    icon_name="bin",
                    priority=50,
                )
            )
        return buttons


class ContactObjectMixin(PermissionCheckedMixin):
    model = Contact

    def get_object(self) -> Contact:
        return get_object_or_404(Contact, pk=unquote(str(self.kwargs["pk"])))


class ContactExportView(ContactObjectMixin, TemplateView):
    """Download everything held about a contact as JSON (GDPR Art. 15 and 20)."""

    any_permission_required = ["change", "view"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        contact = self.get_object()
        data = contact_export_data(contact=contact)
        log(instance=contact, action="newsletter.gdpr_export", user=request.user)
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="contact-{contact.pk}.json"'
        )
        return response


class ContactEraseView(ContactObjectMixin, WagtailAdminTemplateMixin, TemplateView):
    """Confirm, then erase a contact's personal data (GDPR Art. 17). POST only acts."""

    permission_required = "delete"
    template_name = "newsletter/admin/contact_erase.html"
    page_title = _("Erase contact")
    header_icon = "bin"
    http_method_names = ["get", "post"]

    def get_page_subtitle(self) -> str:
        return str(self.object)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        viewset = Contact.snippet_viewset
        context.update(
            contact=self.object,
            action_url=reverse(
                viewset.get_url_name("erase"), args=[quote(self.object.pk)]
            ),
            cancel_url=reverse(
                viewset.get_url_name("edit"), args=[quote(self.object.pk)]
            ),
            is_erased=self.object.status == Contact.Status.ERASED,
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        contact = contact_erase(contact=self.get_object(), user=request.user)
        messages.success(
            request,
            gettext("Contact %(id)s erased.") % {"id": contact.pk},
        )
        return redirect(Contact.snippet_viewset.get_url_name("list"))


class GuardedChooseView(ModelAccessRequiredMixin, snippet_chooser.ChooseView):
    pass


class GuardedChooseResultsView(
    ModelAccessRequiredMixin, snippet_chooser.ChooseResultsView
):
    pass


class GuardedChosenView(ModelAccessRequiredMixin, snippet_chooser.SnippetChosenView):
    pass


class GuardedChosenMultipleView(
    ModelAccessRequiredMixin, snippet_chooser.SnippetChosenMultipleView
):
    pass


class GuardedChooserCreateView(
    ModelAccessRequiredMixin, snippet_chooser.SnippetCreateView
):
    pass


class GuardedChooserViewSet(snippet_chooser.SnippetChooserViewSet):
    """A snippet chooser that, unlike Wagtail's, needs a permission on the model."""

    choose_view_class = GuardedChooseView
    choose_results_view_class = GuardedChooseResultsView
    chosen_view_class = GuardedChosenView
    chosen_multiple_view_class = GuardedChosenMultipleView
    create_view_class = GuardedChooserCreateView


class ContactDeleteView(DeleteView):
    """Delete a contact, or explain why one with a history must be erased instead."""

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            return super().form_valid(form)
        except ProtectedError:
            messages.error(
                self.request,
                gettext(
                    "This contact has received mail or given consent, which is kept as "
                    "proof and counts in the figures. Erase the contact instead: their "
                    "personal data goes, the figures stay."
                ),
            )
            return redirect(reverse(self.edit_url_name, args=[quote(self.object.pk)]))


class ContactViewSet(SnippetViewSet):
    model = Contact
    icon = "user"
    menu_label = _("Contacts")
    url_prefix = "directory/contacts"
    index_view_class = ContactIndexView
    edit_view_class = ContactEditView
    delete_view_class = ContactDeleteView
    chooser_viewset_class = GuardedChooserViewSet
    copy_view_enabled = False
    inspect_view_enabled = True
    search_fields = SEARCH_FIELDS
    filterset_class = ContactFilterSet
    list_per_page = 50
    list_display = [
        "full_name",
        "email",
        "kind",
        Column(
            "country",
            label=_("Country"),
            accessor=lambda contact: (
                country_name(contact.country) if contact.country else ""
            ),
            sort_key="country",
        ),
        "parliament",
        "preferred_language",
        "status",
    ]
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldPanel("email"),
                    FieldPanel("first_name"),
                    FieldPanel("last_name"),
                    FieldPanel("kind"),
                    FieldPanel("country"),
                ],
                heading=_("Person"),
            ),
            MultiFieldPanel(
                [
                    FieldPanel("parliament"),
                    FieldPanel("chamber"),
                    FieldPanel("party"),
                    FieldPanel("committees"),
                    FieldPanel("organisation"),
                    FieldPanel("is_focal_point"),
                    FieldPanel("listed_as_country_contact"),
                    FieldPanel("topics"),
                ],
                heading=_("Role"),
            ),
            MultiFieldPanel(
                [FieldPanel("preferred_language"), FieldPanel("fallback_languages")],
                heading=_("Languages"),
            ),
            MultiFieldPanel(
                [FieldPanel("mailing_lists"), FieldPanel("consents_to_tracking")],
                heading=_("Consent"),
            ),
            FieldPanel("notes"),
        ],
        base_form_class=ContactAdminForm,
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contact]:
        return Contact.objects.all()

    @property
    def gdpr_export_view(self) -> Any:
        return ContactExportView.as_view()

    @property
    def erase_view(self) -> Any:
        return ContactEraseView.as_view()

    def get_urlpatterns(self) -> list[Any]:
        return [
            *super().get_urlpatterns(),
            path("export-data/<str:pk>/", self.gdpr_export_view, name="gdpr_export"),
            path("erase/<str:pk>/", self.erase_view, name="erase"),
        ]
