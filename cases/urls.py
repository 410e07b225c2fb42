from django.urls import include, path

from cases import views, views_actions, views_list

app_name = "cases"

urlpatterns = [
    path("", views_list.case_list, name="list"),
    path("live", views_list.case_list_live, name="list_live"),
    path("lookup/", views_list.case_lookup, name="lookup"),
    path("reassign/", views_list.cases_reassign_view, name="reassign"),
    path("views/", views_list.saved_views, name="saved_views"),
    path("views/<int:view_id>/delete", views_list.saved_view_delete, name="saved_view_delete"),
    path("unread", views.unread_nav, name="unread_nav"),
    path("<uuid:case_id>/", views.case_detail, name="detail"),
    path("<uuid:case_id>/live", views.case_live, name="live"),
    path("<uuid:case_id>/accept", views_actions.action_accept, name="accept"),
    path("<uuid:case_id>/accept/reference", views_actions.accept_reference, name="accept_reference"),
    path("<uuid:case_id>/decline", views_actions.action_decline, name="decline"),
    path("<uuid:case_id>/close", views_actions.action_close, name="close"),
    path("<uuid:case_id>/note", views_actions.action_note, name="note"),
    path("<uuid:case_id>/chat", views_actions.action_chat, name="chat"),
    path("<uuid:case_id>/fees", views_actions.action_fees, name="fees"),
    path("<uuid:case_id>/fees/consent", views_actions.action_fees_consent, name="fees_consent"),
    # Uploading and opening a case's files (file_upload, file_open, upload_open): documents owns them.
    path("", include("documents.urls")),
]
