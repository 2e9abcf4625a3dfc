"""A digit drawn on a canvas, or an uploaded picture, made into an image the network reads
the way it reads its training data: grey or colour like the data set, its size, uint8
[C, H, W] (the model normalises it with the training split's statistics itself)."""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.i18n import t

CANVAS_PX = 196  # on screen; the drawing is then shrunk to the data set's size
INK, PAPER = "#ffffff", "#000000"  # the digit sets are white strokes on black
# Share of each side left empty around a drawn digit: the training digits fill most of
# their frame (MNIST keeps a 4-pixel border in 28, the 8x8 digits almost none).
MARGIN = 0.1
# The drawing is fitted to its frame, so what counts is the pen against the digit's height:
# about a sixth, as in the digit sets (a thinner pen made a trained LeNet read a 0 and a 1
# as 4s; with this one it read a drawn 0, 1, 4 and 7 right).
PEN_PX = 22
MAX_UPLOAD_MB = 10
MAX_UPLOAD_PIXELS = 40_000_000  # a larger picture is refused before it is decoded


def to_data_image(picture: Image.Image, shape: tuple[int, ...], fit_ink: bool = False
                  ) -> np.ndarray:
    """``picture`` as uint8 [C, H, W] of ``shape``: grey for one channel, RGB for three,
    shrunk by averaging pixel areas (how the 8x8 digits were made from their bitmaps).
    ``fit_ink`` crops to what is drawn and centres it in a square first, as the digit
    sets were prepared."""
    c, h, w = shape
    picture = picture.convert("L" if c == 1 else "RGB")
    if fit_ink:
        picture = _fit_to_ink(picture)
    # BOX averages the source pixels each target pixel covers; to enlarge, it is nearest.
    picture = picture.resize((w, h), Image.Resampling.BOX)
    arr = np.asarray(picture, np.uint8)
    arr = arr[None] if c == 1 else arr.transpose(2, 0, 1)
    if arr.shape[0] != c:  # a data set with neither one nor three channels: repeat grey
        arr = np.repeat(arr[:1], c, axis=0)
    return np.array(arr, np.uint8, order="C")  # its own writable copy (PIL arrays are read-only)


def _fit_to_ink(picture: Image.Image) -> Image.Image:
    box = picture.convert("L").getbbox()  # what is not black
    if box is None:
        return picture
    ink = picture.crop(box)
    side = max(ink.size)
    pad = int(round(side * MARGIN / (1 - 2 * MARGIN)))
    square = Image.new(picture.mode, (side + 2 * pad,) * 2)
    square.paste(ink, (pad + (side - ink.size[0]) // 2, pad + (side - ink.size[1]) // 2))
    return square


def from_canvas(rgba: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """The canvas's RGBA pixels as a data image, or None while nothing is drawn."""
    rgba = np.asarray(rgba, np.uint8)
    ink = rgba[..., :3].astype(np.float32) * (rgba[..., 3:4] / 255.0)  # over black paper
    if ink.max() < 1:
        return None
    return to_data_image(Image.fromarray(ink.astype(np.uint8)), shape, fit_ink=True)


def from_upload(raw: bytes, shape: tuple[int, ...], invert: bool = False) -> np.ndarray:
    """An uploaded picture file as a data image; ValueError says why one cannot be read."""
    if len(raw) > MAX_UPLOAD_MB * 2**20:
        raise ValueError(t("The picture is larger than {mb} MB.", mb=MAX_UPLOAD_MB))
    try:
        picture = Image.open(io.BytesIO(raw))
        if picture.width * picture.height > MAX_UPLOAD_PIXELS:
            raise ValueError(t("The picture has too many pixels ({w}x{h}).",
                               w=picture.width, h=picture.height))
        picture = ImageOps.exif_transpose(picture)  # as the phone showed it
        picture.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
        raise ValueError(t("This file is not a picture that can be read (PNG, JPEG or "
                           "WebP).")) from e
    if picture.mode in ("RGBA", "LA", "P"):  # transparent parts become black paper
        rgba = picture.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        picture = Image.alpha_composite(paper, rgba)
    if invert:
        picture = ImageOps.invert(picture.convert("RGB"))
    return to_data_image(picture, shape)


def enlarged(image: np.ndarray, px: int = 112) -> np.ndarray:
    """A data image [C, H, W] as a picture about ``px`` wide with sharp pixels (the browser
    would blur a tiny image it stretches)."""
    arr = image[0] if image.shape[0] == 1 else image[:3].transpose(1, 2, 0)
    scale = max(1, px // max(image.shape[1:]))
    return np.kron(arr, np.ones((scale, scale) + (() if arr.ndim == 2 else (1,)), np.uint8))


def drawing_canvas(shape: tuple[int, ...], key: str) -> np.ndarray | None:
    """A canvas to draw on with the mouse or a finger; the drawing as a data image."""
    from streamlit_drawable_canvas import st_canvas

    # The canvas's toolbar rises 2.65rem above it on hover: room, so it covers no label.
    st.space("small")
    result = st_canvas(stroke_width=PEN_PX, stroke_color=INK,
                       background_color=PAPER, width=CANVAS_PX, height=CANVAS_PX,
                       drawing_mode="freedraw", return_image_data=True, key=key)
    st.caption(t("Draw with the mouse or a finger; the bin above the box clears it."))
    pixels = result.image_data
    return None if pixels is None else from_canvas(pixels, shape)


def upload_box(shape: tuple[int, ...], key: str) -> np.ndarray | None:
    """A file box for a picture; the picture as a data image (None without one). A file
    that cannot be read is said so on the page."""
    # The formats a phone or a drawing program saves; fewer names also fit a narrow column.
    upload = st.file_uploader(t("A picture (PNG, JPEG or WebP)"),
                              type=["png", "jpg", "jpeg", "webp"], key=key,
                              max_upload_size=MAX_UPLOAD_MB)
    invert = st.checkbox(t("Dark ink on light paper"), key=f"{key}-invert",
                         help=t("Swaps black and white: the digit sets are light strokes on "
                                "black, a photo of ink on paper the other way round."))
    if upload is None:
        return None
    try:
        return from_upload(upload.getvalue(), shape, invert)
    except ValueError as e:
        st.error(str(e))
        return None
