"""`collectstatic` for production (tuoke.web.storage): hashed and compressed files, npm
packages' references to files they do not ship tolerated, our own broken references not."""

import pytest
from django.core.management import call_command

STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "tuoke.web.storage.StaticFilesStorage"},
}


def _collect(settings, tmp_path, files: dict[str, str]):
    source = tmp_path / "source"
    for name, text in files.items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    settings.STATICFILES_DIRS = [str(source)]
    settings.STATIC_ROOT = str(tmp_path / "collected")
    settings.STORAGES = STORAGE
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path / "collected"


def test_a_packages_reference_to_a_file_it_does_not_ship_is_kept(settings, tmp_path):
    collected = _collect(
        settings,
        tmp_path,
        {
            "vendor/lib/plugin.css": "a { background: url(../img/star.svg) }\n"
            "/*# sourceMappingURL=plugin.css.map */",
            "web/tuoke.css": "body { color: black }",
        },
    )
    hashed = [p.name for p in (collected / "vendor/lib").iterdir()]
    assert any(
        name.startswith("plugin.") and name.endswith(".css") and name != "plugin.css"
        for name in hashed
    )
    assert "vendor/lib/plugin.css" in (collected / "staticfiles.json").read_text()
    assert "star.svg" in (collected / "vendor/lib/plugin.css").read_text()


def test_our_own_broken_reference_still_fails(settings, tmp_path):
    with pytest.raises(ValueError, match=r"missing\.png"):
        _collect(settings, tmp_path, {"web/tuoke.css": "a { background: url(missing.png) }"})
