from django.urls import path

from documents.views import (
    agreements,
    confirmation,
    court_documents,
    enforcement,
    files,
    performance,
    powers_of_attorney,
    serving,
    verification,
)

urlpatterns = [
    path("verify/", verification.verify_upload, name="verify"),
    path("verify/ca.pem", verification.authority_certificate, name="verify_ca"),
    path("verify/<str:code>/", verification.verify_record, name="verify_record"),
    path("cases/<int:case_id>/documents/", files.case_documents, name="case_documents"),
    path("cases/<int:case_id>/documents/upload/", files.upload, name="document_upload"),
    path("documents/<int:document_id>/", files.document_file, name="document_file"),
    path("cases/<int:case_id>/services/new/", serving.serve, name="service_new"),
    path("cases/<int:case_id>/consent/", serving.consent, name="service_consent"),
    path("services/<int:service_id>/", serving.service_detail, name="service_detail"),
    path("services/<int:service_id>/<slug:action>/", serving.service_action, name="service_action"),
    path("services/<int:service_id>/proof.pdf", serving.service_proof, name="service_proof"),
    path(
        "cases/<int:case_id>/powers-of-attorney/",
        powers_of_attorney.powers_of_attorney,
        name="powers_of_attorney",
    ),
    path(
        "cases/<int:case_id>/powers-of-attorney/upload/",
        powers_of_attorney.power_of_attorney_upload,
        name="power_of_attorney_upload",
    ),
    path(
        "powers-of-attorney/<int:power_id>/",
        powers_of_attorney.power_of_attorney_detail,
        name="power_of_attorney_detail",
    ),
    path(
        "powers-of-attorney/<int:power_id>/file/",
        powers_of_attorney.power_of_attorney_file,
        name="power_of_attorney_file",
    ),
    path(
        "powers-of-attorney/<int:power_id>/<slug:action>/",
        powers_of_attorney.power_of_attorney_check,
        name="power_of_attorney_check",
    ),
    path("cases/<int:case_id>/enforcement/", enforcement.case_enforcement, name="case_enforcement"),
    path("cases/<int:case_id>/performance/", performance.case_performance, name="case_performance"),
    path("obligations/<int:obligation_id>/<slug:action>/", performance.obligation_action, name="obligation_action"),
    path("cases/<int:case_id>/agreement/", agreements.agreement_for_case, name="agreement_for_case"),
    path("agreements/<int:agreement_id>/", agreements.agreement_detail, name="agreement_detail"),
    path("agreements/<int:agreement_id>/edit/", agreements.agreement_edit, name="agreement_edit"),
    path("agreements/<int:agreement_id>/preview/", agreements.agreement_preview, name="agreement_preview"),
    path("agreements/<int:agreement_id>/lock/", agreements.agreement_lock, name="agreement_lock"),
    path("agreements/<int:agreement_id>/decline/", agreements.agreement_decline, name="agreement_decline"),
    path("agreements/<int:agreement_id>/sign/", agreements.agreement_sign, name="agreement_sign"),
    path("agreements/<int:agreement_id>/<slug:which>.pdf", agreements.agreement_pdf, name="agreement_pdf"),
    path("court-documents/<int:document_id>/", court_documents.court_document_sign, name="court_document_sign"),
    path(
        "court-documents/<int:document_id>/<slug:which>.pdf",
        court_documents.court_document_pdf,
        name="court_document_pdf",
    ),
    path(
        "agreements/<int:agreement_id>/judicial-confirmation/",
        confirmation.confirmation_apply,
        name="confirmation_apply",
    ),
    path(
        "judicial-confirmations/<int:confirmation_id>/withdraw/",
        confirmation.confirmation_withdraw,
        name="confirmation_withdraw",
    ),
]
