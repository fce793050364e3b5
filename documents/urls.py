from django.urls import path

from documents import views

urlpatterns = [
    path("verify/", views.verify_upload, name="verify"),
    path("verify/ca.pem", views.authority_certificate, name="verify_ca"),
    path("verify/<str:code>/", views.verify_record, name="verify_record"),
    path("cases/<int:case_id>/documents/", views.case_documents, name="case_documents"),
    path("cases/<int:case_id>/documents/upload/", views.upload, name="document_upload"),
    path("documents/<int:document_id>/", views.document_file, name="document_file"),
    path("cases/<int:case_id>/services/new/", views.serve, name="service_new"),
    path("cases/<int:case_id>/consent/", views.consent, name="service_consent"),
    path("services/<int:service_id>/", views.service_detail, name="service_detail"),
    path("services/<int:service_id>/<slug:action>/", views.service_action, name="service_action"),
    path("services/<int:service_id>/proof.pdf", views.service_proof, name="service_proof"),
    path("cases/<int:case_id>/agreement/", views.agreement_for_case, name="agreement_for_case"),
    path("agreements/<int:agreement_id>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<int:agreement_id>/edit/", views.agreement_edit, name="agreement_edit"),
    path("agreements/<int:agreement_id>/preview/", views.agreement_preview, name="agreement_preview"),
    path("agreements/<int:agreement_id>/lock/", views.agreement_lock, name="agreement_lock"),
    path("agreements/<int:agreement_id>/decline/", views.agreement_decline, name="agreement_decline"),
    path("agreements/<int:agreement_id>/sign/", views.agreement_sign, name="agreement_sign"),
    path("agreements/<int:agreement_id>/<slug:which>.pdf", views.agreement_pdf, name="agreement_pdf"),
]
