"""Contract attachments: allowed types checked by the extension and the leading bytes, the
size limit, safe stored names, no change while pending approval, removal audited."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tuoke.contracts import services
from tuoke.contracts.models import ContractAttachment
from tuoke.core.audit import trail_of

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
ZIP = b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 32
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_it_keeps_a_pdf_under_a_name_of_its_own(rep_east, draft):
    attachment = services.add_attachment(
        draft, upload=_upload("签约扫描件.pdf", PDF, "text/html"), by=rep_east
    )
    assert attachment.name == "签约扫描件.pdf"
    assert attachment.content_type == "application/pdf"  # not what the browser claimed
    assert attachment.size == len(PDF)
    assert attachment.created_by == rep_east
    stored = attachment.file.name
    assert stored.startswith("contracts/")
    assert stored.endswith(".pdf")
    assert "签约" not in stored
    with attachment.file.open("rb") as saved:
        assert saved.read() == PDF
    change = trail_of(draft).first().changes
    assert change == [
        {"field": "attachments", "label": "attachments", "old": "", "new": "签约扫描件.pdf"}
    ]


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        (
            "合同.docx",
            ZIP,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("报价.xlsx", ZIP, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("资料.zip", ZIP, "application/zip"),
        ("旧合同.DOC", OLE, "application/msword"),
        ("旧报价.xls", OLE, "application/vnd.ms-excel"),
        ("盖章页.png", PNG, "image/png"),
        ("盖章页.jpg", JPEG, "image/jpeg"),
        ("盖章页.jpeg", JPEG, "image/jpeg"),
    ],
)
def test_it_accepts_the_allowed_types(rep_east, draft, name, content, content_type):
    attachment = services.add_attachment(draft, upload=_upload(name, content), by=rep_east)
    assert attachment.content_type == content_type


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("签约扫描件.pdf", EXE),  # a program renamed .pdf
        ("setup.exe", EXE),
        ("合同.docx", PDF),
        ("合同.pdf", ZIP),
        ("盖章页.jpg", PNG),
        ("说明.txt", b"hello"),
        ("无扩展名", PDF),
        ("page.html", b"<html><script>alert(1)</script>"),
    ],
)
def test_it_refuses_other_types_by_extension_and_content(rep_east, draft, name, content):
    with pytest.raises(ValidationError) as caught:
        services.add_attachment(draft, upload=_upload(name, content), by=rep_east)
    assert caught.value.message_dict == {
        "file": ["Upload a PDF, PNG, JPG, Word (DOC, DOCX), Excel (XLS, XLSX) or ZIP file."]
    }
    assert caught.value.error_dict["file"][0].code == "file_type"
    assert not ContractAttachment.all_objects.exists()


def test_it_refuses_a_file_above_the_limit(settings, rep_east, draft):
    settings.CONTRACT_ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(ValidationError) as caught:
        services.add_attachment(draft, upload=_upload("大.pdf", PDF + b"0" * 1024), by=rep_east)
    assert caught.value.message_dict == {"file": ["The file is larger than 1 KB."]}
    assert caught.value.error_dict["file"][0].code == "file_size"
    services.add_attachment(draft, upload=_upload("小.pdf", PDF), by=rep_east)


def test_the_limit_is_20_mb_unless_set(settings):
    if hasattr(settings, "CONTRACT_ATTACHMENT_MAX_BYTES"):
        del settings.CONTRACT_ATTACHMENT_MAX_BYTES
    assert services.attachment_max_bytes() == 20 * 1024 * 1024
    settings.CONTRACT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
    big = _upload("大.pdf", b"")
    big.size = 20 * 1024 * 1024 + 1
    with pytest.raises(ValidationError) as caught:
        services.check_upload(big)
    assert caught.value.message_dict == {"file": ["The file is larger than 20 MB."]}


def test_an_empty_file_is_refused(rep_east, draft):
    with pytest.raises(ValidationError) as caught:
        services.add_attachment(draft, upload=_upload("空.pdf", b""), by=rep_east)
    assert caught.value.message_dict == {"file": ["The file is empty."]}


def test_a_path_in_the_name_is_dropped(rep_east, draft):
    attachment = services.add_attachment(
        draft, upload=_upload("../../etc/合同<1>.pdf", PDF), by=rep_east
    )
    assert attachment.name == "合同_1_.pdf"
    assert ".." not in attachment.file.name


def test_no_attachment_changes_while_pending(rep_east, customer):
    contract = services.create_contract(
        customer=customer, title="大额合同", amount=Decimal("900000"), by=rep_east
    )
    attachment = services.add_attachment(contract, upload=_upload("a.pdf", PDF), by=rep_east)
    pending = services.submit_contract(contract, by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.add_attachment(pending, upload=_upload("b.pdf", PDF), by=rep_east)
    assert caught.value.error_dict["status"][0].code == "locked"
    attachment.contract.refresh_from_db()
    with pytest.raises(ValidationError):
        services.remove_attachment(attachment, by=rep_east)


def test_an_effective_contract_takes_its_signed_scan(rep_east, draft):
    effective = services.submit_contract(draft, by=rep_east)
    attachment = services.add_attachment(effective, upload=_upload("scan.pdf", PDF), by=rep_east)
    assert list(effective.attachments.all()) == [attachment]


def test_removing_an_attachment_keeps_the_file_and_is_audited(rep_east, draft):
    attachment = services.add_attachment(draft, upload=_upload("a.pdf", PDF), by=rep_east)
    services.remove_attachment(attachment, by=rep_east)
    assert not draft.attachments.exists()
    kept = ContractAttachment.all_objects.get(pk=attachment.pk)
    assert kept.deleted_by == rep_east
    assert kept.file.storage.exists(kept.file.name)
    assert trail_of(draft).first().changes[0] == {
        "field": "attachments",
        "label": "attachments",
        "old": "a.pdf",
        "new": "",
    }
