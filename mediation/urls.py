from django.urls import include, path
from django.views.generic import RedirectView

from mediation.views import account, applications, cases, figures, identity, notifications, work_orders

urlpatterns = [
    path("", work_orders.home, name="home"),
    path("language/", account.set_language, name="set_language"),
    path("desk/", work_orders.desk, name="desk"),
    path("desk/mine/", work_orders.my_work_orders, name="my_work_orders"),
    path("desk/new/", work_orders.intake, name="work_order_intake"),
    path("orders/<str:number>/", work_orders.work_order_detail, name="work_order_detail"),
    path("orders/<str:number>/do/<slug:action>/", work_orders.work_order_action, name="work_order_action"),
    path(
        "orders/<str:number>/supervision/<int:notice_id>/answer/",
        work_orders.answer_supervision_notice,
        name="answer_supervision_notice",
    ),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/count/", notifications.notification_count, name="notification_count"),
    path("notifications/read-all/", notifications.read_all_notifications, name="notifications_read_all"),
    path("notifications/<int:notification_id>/open/", notifications.open_notification, name="notification_open"),
    path("accounts/notifications/", notifications.notification_preferences, name="notification_preferences"),
    # The short link of a notice sent by SMS.
    path("n/<int:notification_id>/", notifications.follow_notification_link, name="notification_link"),
    path("cases/", cases.case_list, name="case_list"),
    path("cases/new/", cases.case_new, name="case_new"),
    path("cases/<int:case_id>/", cases.case_detail, name="case_detail"),
    path("cases/<int:case_id>/do/<slug:action>/", cases.case_action, name="case_action"),
    path("my-cases/", cases.my_cases, name="my_cases"),
    path(
        "cases/<int:case_id>/participants/<int:participant_id>/identity-check/",
        identity.record_identity_check,
        name="record_identity_check",
    ),
    path("identity-checks/<int:check_id>/evidence/", identity.identity_check_evidence, name="identity_check_evidence"),
    path("account/identity/", identity.my_identity, name="my_identity"),
    path("invite/<str:token>/", cases.invitation, name="invitation"),
    path("apply/", applications.apply, name="apply"),
    path("apply/done/", applications.apply_done, name="apply_done"),
    path("apply/track/", applications.track, name="apply_track"),
    path("track/", RedirectView.as_view(pattern_name="apply_track"), name="track"),
    path("figures/", figures.figures_page, name="figures"),
    path("figures/export.csv", figures.figures_csv, name="figures_csv"),
    path("figures/export.xlsx", figures.figures_xlsx, name="figures_xlsx"),
    path("figures/after-seal.csv", figures.figures_after_seal_csv, name="figures_after_seal_csv"),
    path("figures/after-seal.xlsx", figures.figures_after_seal_xlsx, name="figures_after_seal_xlsx"),
    # The roster (issue 20).
    path("", include("mediation.roster_urls")),
]
