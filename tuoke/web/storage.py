"""Static files in production: whitenoise's compressed, hashed files."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed and compressed static files, tolerating files that npm packages (served under
    vendor/) name in their CSS but do not ship — Tabler's plugins refer to source maps and
    images left out of its package: such a reference stays as it is. A missing file that one
    of our own files refers to still stops collectstatic."""

    def hashed_name(self, name, content=None, filename=None):
        try:
            return super().hashed_name(name, content, filename)
        except ValueError:
            if name.strip().startswith("vendor/"):
                return name
            raise
