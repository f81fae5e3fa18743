"""Out-of-scope records for the access matrix (see access.py): the settings of pipelines,
stages, lost reasons and products.

Everyone reads this configuration, so through the API only what is in the recycle bin is out
of sight (a deleted pipeline, and its stages with it; a deleted lost reason or product). The
pages are for administrators: anyone else gets 404 for any of these records (as for the
custom field pages)."""

from collections.abc import Callable


def _admin(people):
    return people["admin"]


def pipeline(people):
    """A living pipeline (the pages refuse it to a rep: he does not administer pipelines)."""
    from tuoke.sales.config import create_pipeline
    from tuoke.sales.models import Pipeline

    existing = Pipeline.objects.filter(name="矩阵管道").first()
    return existing or create_pipeline(name="矩阵管道", by=_admin(people))


def stage(people):
    return pipeline(people).stages.filter(kind="open").first()


def lost_reason(people):
    from tuoke.sales.config import create_lost_reason
    from tuoke.sales.models import LostReason

    existing = LostReason.objects.filter(name="矩阵原因").first()
    return existing or create_lost_reason(name="矩阵原因", by=_admin(people))


def product(people):
    from tuoke.sales.config import create_product
    from tuoke.sales.models import Product

    existing = Product.objects.filter(name="矩阵产品").first()
    return existing or create_product(name="矩阵产品", by=_admin(people))


def deleted_pipeline(people):
    """A pipeline in the recycle bin (not the default one, which cannot be deleted)."""
    from tuoke.sales.config import create_pipeline, delete_pipeline
    from tuoke.sales.models import Pipeline

    existing = Pipeline.all_objects.filter(name="已删除管道").first()
    if existing is not None:
        return existing
    pipeline(people)  # the default, so that this one is not
    made = create_pipeline(name="已删除管道", by=_admin(people))
    delete_pipeline(made, by=_admin(people))
    return made


def deleted_stage(people):
    """A stage of a deleted pipeline: in the bin with it."""
    from tuoke.sales.models import Stage

    return Stage.objects.filter(pipeline=deleted_pipeline(people), kind="open").first()


def deleted_lost_reason(people):
    from tuoke.sales.config import create_lost_reason, delete_lost_reason
    from tuoke.sales.models import LostReason

    existing = LostReason.all_objects.filter(name="已删除原因").first()
    if existing is not None:
        return existing
    made = create_lost_reason(name="已删除原因", by=_admin(people))
    delete_lost_reason(made, by=_admin(people))
    return made


def deleted_product(people):
    from tuoke.sales.config import create_product, delete_product
    from tuoke.sales.models import Product

    existing = Product.all_objects.filter(name="已删除产品").first()
    if existing is not None:
        return existing
    made = create_product(name="已删除产品", by=_admin(people))
    delete_product(made, by=_admin(people))
    return made


def _each(names: tuple[str, ...], params: dict[str, Callable]) -> dict[str, dict]:
    return dict.fromkeys(names, params)


OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {
    **_each(
        (
            "sales:pipeline_edit",
            "sales:pipeline_delete",
            "sales:stage_create",
            "sales:stage_reorder",
        ),
        {"pk": lambda p: pipeline(p).pk},
    ),
    "sales:pipeline_restore": {"pk": lambda p: deleted_pipeline(p).pk},
    **_each(
        (
            "sales:stage_row",
            "sales:stage_edit",
            "sales:stage_move",
            "sales:stage_archive",
            "sales:stage_unarchive",
        ),
        {"pk": lambda p: stage(p).pk},
    ),
    **_each(
        ("sales:lost_reason_edit", "sales:lost_reason_toggle", "sales:lost_reason_delete"),
        {"pk": lambda p: lost_reason(p).pk},
    ),
    **_each(
        ("sales:product_edit", "sales:product_delete"),
        {"pk": lambda p: product(p).pk},
    ),
    **_each(
        (
            "/api/v1/pipelines/{pipeline_id}",
            "/api/v1/pipelines/{pipeline_id}/stages",
            "/api/v1/pipelines/{pipeline_id}/stages/order",
        ),
        {"pipeline_id": lambda p: deleted_pipeline(p).pk},
    ),
    "/api/v1/stages/{stage_id}": {"stage_id": lambda p: deleted_stage(p).pk},
    "/api/v1/lost-reasons/{reason_id}": {"reason_id": lambda p: deleted_lost_reason(p).pk},
    "/api/v1/products/{product_id}": {"product_id": lambda p: deleted_product(p).pk},
}
