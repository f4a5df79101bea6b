"""Thumbnails for newly uploaded images: list -> download -> resize -> upload, all mapped."""

from __future__ import annotations

import io

import boto3
from PIL import Image

from dagy import flow, get_run_logger, task, unmapped


@task
def list_images(bucket: str, prefix: str) -> list[str]:
    s3 = boto3.client("s3")
    resp = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in resp.get("Contents", [])
            if o["Key"].lower().endswith((".jpg", ".jpeg", ".png"))]


@task(retries=2, retry_delay_seconds=5)
def download_image(bucket: str, key: str) -> bytes:
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


@task
def make_thumbnail(img: bytes, size: tuple[int, int]) -> bytes:
    with Image.open(io.BytesIO(img)) as im:
        im.thumbnail(size)
        out = io.BytesIO()
        im.convert("RGB").save(out, format="JPEG", quality=85)
        return out.getvalue()


@task(retries=2, retry_delay_seconds=5)
def upload_thumbnail(thumb: bytes, key: str, bucket: str) -> str:
    target = key.rsplit(".", 1)[0] + "_thumb.jpg"
    boto3.client("s3").put_object(Bucket=bucket, Key=target, Body=thumb,
                                  ContentType="image/jpeg")
    return target


@task
def summarize_uploads(results: list[str]) -> dict:
    return {"count": len(results), "sample": results[:5]}


@flow(name="Thumbnail Generator")
def thumbnails(bucket: str = "acme-media", prefix: str = "uploads/",
               size: tuple[int, int] = (256, 256)) -> dict:
    logger = get_run_logger()
    keys = list_images(bucket, prefix)
    logger.info("%d images to process", len(keys))

    images = download_image.map(unmapped(bucket), keys)
    thumbs = make_thumbnail.map(images, unmapped(size))
    uploaded = upload_thumbnail.map(thumbs, keys, unmapped(f"{bucket}-thumbs"))

    return summarize_uploads(uploaded)
