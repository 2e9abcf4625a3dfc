"""Convolution lab: a kernel over a picture, the output size, one output cell by hand,
pooling, parameter counts and what a 1x1 convolution does to channels. Nothing trains."""

from __future__ import annotations

import numpy as np
import streamlit as st

from engine.i18n import t
from engine.lab.convolution import (
    KERNELS,
    PATTERNS,
    Cell,
    cell_arithmetic,
    conv2d,
    conv_cell,
    conv_params,
    dense_params,
    factor,
    kernel_text,
    num,
    output_size,
    params_arithmetic,
    parse_kernel,
    pointwise,
    pool2d,
    pool_cell,
    pool_problem,
    size_formula,
    small_input,
)
from engine.lab.pictures import IMAGE_SETS, LUMA, PHOTOS, photo, set_image, set_size
from ui.present import figure_height
from viz.conv_lab import (
    image_figure,
    kernel_figure,
    output_figure,
    rgb_figure,
    window_figure,
)

CUSTOM = "custom"
SIZES = (32, 48, 64, 96, 128, 192, 256)
KERNEL = "cl-kernel"  # the kernel in use (a list of rows): kept when a typed one is bad
TEXT = "cl-kernel-text"

st.title(t("Convolution lab"))
st.caption(t("A convolution slides a small grid of weights, the kernel, over the image. At "
             "each place it multiplies the pixels under the kernel by the weights and adds "
             "the products up: that sum is one pixel of the output. Here you choose the "
             "weights; in a network, training chooses them."))

# ---------------------------------------------------------------- a kernel over a picture
st.subheader(t("A kernel over a picture"))
sources = [*PHOTOS, *IMAGE_SETS]
c = st.columns(2)
source = c[0].selectbox(
    t("Picture"), sources, key="cl-source",
    format_func=lambda s: t(PHOTOS[s][0] if s in PHOTOS else IMAGE_SETS[s][0]))
if source in PHOTOS:
    size = c[1].select_slider(t("Size (pixels on the long side)"), SIZES, value=96,
                              key="cl-size", help=t("The photo is scaled down and shown in "
                                                    "grey: one channel, like a digit."))
    picture, picture_name = photo(source, size), t(PHOTOS[source][0])
else:
    index = c[1].number_input(t("Image number"), 0, set_size(source) - 1, 0, key="cl-index")
    picture, label = set_image(source, index)
    picture_name = t("{set}, image {i} ({label})", set=t(IMAGE_SETS[source][0]), i=index,
                     label=label)


def _kernel_changed() -> None:
    # Typing starts from the kernel in use, so a classic can be edited into a variant.
    if st.session_state["cl-kernel-name"] == CUSTOM:
        st.session_state[TEXT] = kernel_text(np.array(st.session_state[KERNEL]))


st.session_state.setdefault(KERNEL, KERNELS["sobel_x"][1].tolist())
c = st.columns([3, 2])
with c[0]:
    choice = st.selectbox(
        t("Kernel"), [*KERNELS, CUSTOM], index=list(KERNELS).index("sobel_x"),
        key="cl-kernel-name", on_change=_kernel_changed,
        format_func=lambda k: t("Type your own") if k == CUSTOM else t(KERNELS[k][0]))
    if choice == CUSTOM:
        st.session_state.setdefault(TEXT, kernel_text(np.array(st.session_state[KERNEL])))
        typed = st.text_area(t("Weights: one row per line, numbers separated by spaces "
                               "(fractions such as 1/9 are fine)"), key=TEXT, height=130)
        try:
            st.session_state[KERNEL] = parse_kernel(typed).tolist()
        except ValueError as e:
            st.error(t("{problem} The previous kernel is kept.", problem=str(e)),
                     icon=":material/error:")
    else:
        st.session_state[KERNEL] = KERNELS[choice][1].tolist()
        st.caption(t(KERNELS[choice][2]))
kernel = np.array(st.session_state[KERNEL], float)
kh, kw = kernel.shape
c[1].plotly_chart(kernel_figure(kernel, t("Kernel {h} × {w}", h=kh, w=kw),
                                height=figure_height(200)), key="cl-kernel-fig")

c = st.columns(3)
stride = c[0].slider(t("Stride"), 1, 4, 1, key="cl-stride",
                     help=t("How many pixels the kernel moves between two output pixels."))
padding = c[1].slider(t("Padding"), 0, 4, 0, key="cl-padding",
                      help=t("Rows and columns of zeros added around the input, so the "
                             "kernel can also centre on the border pixels."))
dilation = c[2].slider(t("Dilation"), 1, 4, 1, key="cl-dilation",
                       help=t("Gaps between the kernel's weights: 2 spreads a 3 × 3 kernel "
                              "over 5 × 5 pixels, so it sees further without more weights."))

c = st.columns(2)
h, w = picture.shape
c[0].plotly_chart(image_figure(picture, t("Input: {h} × {w} pixels", h=h, w=w),
                               height=figure_height(340)), key="cl-input-fig")
try:
    out = conv2d(picture, kernel, stride, padding, dilation)
except ValueError as e:
    out = None
    c[1].warning(str(e))
if out is not None:
    c[1].plotly_chart(image_figure(out, t("Output: {h} × {w} pixels", h=out.shape[0],
                                          w=out.shape[1]), height=figure_height(340)),
                      key="cl-output-fig")
    if out.min() < 0 < out.max():
        st.caption(t("Red: positive sums, blue: negative ones, white: zero (for an edge "
                     "kernel, no change in brightness). Hover a pixel for its value."))
st.caption(picture_name)

st.markdown(t("**Output size.** Along each axis, with input size n, kernel size k, padding "
              "p, dilation d and stride s:"))
# The same notation as the filled-in lines below it, so each number lines up with its letter.
st.markdown("out = ⌊(n + 2·p − d·(k − 1) − 1) / s⌋ + 1  \n"
            + t("Height: {formula}", formula=size_formula(h, kh, stride, padding, dilation))
            + "  \n"
            + t("Width: {formula}", formula=size_formula(w, kw, stride, padding, dilation)))


# ------------------------------------------------------------- one output cell by hand
def stepper(name: str, cells: int) -> int:
    """Previous and Next buttons and a slider over the output cells (1-based)."""
    key = f"cl-{name}-cell"

    def move(delta: int) -> None:
        st.session_state[key] = max(1, min(cells, st.session_state.get(key, 1) + delta))

    # Clamped before the slider is drawn: a larger stride can shrink the output under it.
    st.session_state[key] = max(1, min(cells, st.session_state.get(key, 1)))
    c = st.columns([1, 1, 3])
    c[0].button(t("◀ Previous"), on_click=move, args=(-1,), key=f"cl-{name}-prev")
    c[1].button(t("Next ▶"), on_click=move, args=(1,), key=f"cl-{name}-next")
    if cells > 1:
        c[2].slider(t("Output cell"), 1, cells, key=key, label_visibility="collapsed")
    return st.session_state[key]


def show_cell(name: str, x: np.ndarray, pad: int, out: np.ndarray, cell: Cell, upto: int,
              arithmetic: str, pad_text: str) -> None:
    c = st.columns(2)
    c[0].plotly_chart(window_figure(x, pad, cell, t("Input {n} × {n}, padding in grey",
                                                    n=x.shape[0]),
                                    height=figure_height(330), pad_text=pad_text),
                      key=f"cl-{name}-window")
    c[1].plotly_chart(output_figure(out, upto, t("Output {h} × {w}", h=out.shape[0],
                                                 w=out.shape[1]),
                                    height=figure_height(330)), key=f"cl-{name}-out")
    st.info(t("Output row {r}, column {c}: {sum}", r=cell.row + 1, c=cell.col + 1,
              sum=arithmetic))


st.subheader(t("One output pixel, step by step"))
st.caption(t("The same kernel, stride, padding and dilation on a small input of whole "
             "numbers. Each output pixel is the sum of the input numbers under the window "
             "(outlined), each times the weight written under it."))
c = st.columns(2)
pattern = c[0].selectbox(t("Small input"), list(PATTERNS), key="cl-pattern",
                         format_func=lambda p: t(PATTERNS[p]))
n = c[1].slider(t("Its size"), 5, 8, 7, key="cl-n")
small = small_input(pattern, n)
try:
    small_out = conv2d(small, kernel, stride, padding, dilation)
except ValueError as e:
    st.warning(str(e))
else:
    pos = stepper("conv", small_out.size)
    r, col = divmod(pos - 1, small_out.shape[1])
    cell = conv_cell(small, kernel, r, col, stride, padding, dilation)
    show_cell("conv", small, padding, small_out, cell, pos, cell_arithmetic(cell), "0")

# ------------------------------------------------------------------------------ pooling
st.subheader(t("Pooling"))
st.caption(t("Pooling has no weights: each output pixel is the largest (max pooling) or the "
             "mean (average pooling) of the window. It shrinks the picture and keeps the "
             "strongest responses."))
c = st.columns(4)
kind = c[0].radio(t("Pooling"), ["max", "avg"], key="cl-pool-kind",
                  format_func=lambda k: t("Max") if k == "max" else t("Average"))
window = c[1].slider(t("Window"), 2, 4, 2, key="cl-pool-k")
pool_stride = c[2].slider(t("Stride"), 1, 4, 2, key="cl-pool-stride")
pool_pad = c[3].slider(t("Padding"), 0, 2, 0, key="cl-pool-pad")
problem = pool_problem(window, pool_stride, pool_pad)
if problem:
    st.warning(problem)
elif output_size(n, window, pool_stride, pool_pad) < 1:
    st.warning(t("The window is larger than the padded input."))
else:
    pooled = pool2d(small, kind, window, pool_stride, pool_pad)
    pos = stepper("pool", pooled.size)
    r, col = divmod(pos - 1, pooled.shape[1])
    cell = pool_cell(small, kind, window, r, col, pool_stride, pool_pad)
    show_cell("pool", small, pool_pad, pooled, cell, pos, cell_arithmetic(cell, kind),
              "−∞" if kind == "max" else "0")
    if pool_pad and kind == "max":
        st.caption(t("Max pooling pads with minus infinity, so padding never wins."))
    elif pool_pad:
        st.caption(t("Average pooling pads with zeros and still divides by the whole "
                     "window (PyTorch's default)."))
    with st.expander(t("The picture, pooled the same way")):
        big = pool2d(picture, kind, window, pool_stride, pool_pad)
        c = st.columns(2)
        c[0].plotly_chart(image_figure(picture, t("Input: {h} × {w} pixels", h=h, w=w),
                                       height=figure_height(300)), key="cl-pool-in")
        c[1].plotly_chart(image_figure(big, t("Pooled: {h} × {w} pixels", h=big.shape[0],
                                              w=big.shape[1]), height=figure_height(300)),
                          key="cl-pool-big")

# ---------------------------------------------------------------------------- parameters
st.subheader(t("How many weights?"))
st.caption(t("A convolution layer has one kernel for every pair of input and output "
             "channels, plus one bias per output channel. The count does not depend on the "
             "picture's size: the same weights are used at every place."))
c = st.columns(4)
c_in = c[0].number_input(t("Input channels"), 1, 4096, 3, key="cl-in")
c_out = c[1].number_input(t("Output channels"), 1, 4096, 16, key="cl-out")
k = c[2].number_input(t("Kernel size"), 1, 11, 3, key="cl-k")
bias = c[3].toggle(t("Bias"), value=True, key="cl-bias")
st.markdown(t("{words} = {formula} learned numbers.",
              words=t("in × out × k × k + out") if bias else t("in × out × k × k"),
              formula=params_arithmetic(c_in, c_out, k, bias)))
examples = [
    (t("LeNet-5's first layer: grey digit to 6 maps, 5 × 5"), 1, 6, 5),
    (t("A first layer on colour photos: 3 to 64 channels, 3 × 3"), 3, 64, 3),
    (t("Deep in VGG: 256 to 256 channels, 3 × 3"), 256, 256, 3),
    (t("A 1 × 1 convolution: 256 to 64 channels"), 256, 64, 1),
]
st.table([{t("Layer"): name, t("Count"): params_arithmetic(a, b, kk)}
          for name, a, b, kk in examples], hide_index=True)
side = 32
st.caption(t("For comparison: a dense layer from a {s} × {s} colour image (3 channels) to "
             "16 maps of the same size needs {dense} weights; the 3 × 3 convolution that does "
             "the same needs {conv}.", s=side,
             dense=f"{dense_params(3 * side * side, 16 * side * side):,}",
             conv=f"{conv_params(3, 16, 3):,}"))

# ------------------------------------------------------------------------ 1x1 convolution
st.subheader(t("A 1 × 1 convolution mixes channels"))
st.caption(t("A 1 × 1 kernel looks at one pixel only, but at all its channels: each output "
             "channel is a weighted sum of the input channels at the same place. Networks "
             "use it to change the number of channels cheaply."))
rgb_name = source if source in PHOTOS else "flower"
rgb = photo(rgb_name, 96, grey=False)
n_out = st.radio(t("Output channels"), [1, 2], key="cl-mix-n", horizontal=True)
DEFAULT_MIX = (LUMA, (1.0, -1.0, 0.0))
weights = np.zeros((n_out, 3))
for o in range(n_out):
    cols = st.columns(3)
    for ch, label in enumerate((t("Channel {o}: weight of red", o=o + 1),
                                t("Channel {o}: weight of green", o=o + 1),
                                t("Channel {o}: weight of blue", o=o + 1))):
        weights[o, ch] = cols[ch].number_input(
            label, -5.0, 5.0, float(DEFAULT_MIX[o][ch]), step=0.1, format="%.3f",
            key=f"cl-mix-{o}-{ch}")
mixed = pointwise(rgb, weights)
figs = st.columns(1 + n_out)
figs[0].plotly_chart(rgb_figure(rgb, t("Input: 3 channels (red, green, blue)"),
                                height=figure_height(260)), key="cl-mix-in")
for o in range(n_out):
    figs[o + 1].plotly_chart(image_figure(mixed[o], t("Output channel {o}", o=o + 1),
                                          height=figure_height(260)), key=f"cl-mix-out-{o}")
cy, cx = rgb.shape[1] // 2, rgb.shape[2] // 2
px = rgb[:, cy, cx]
lines = [t("Channel {o} at the centre pixel: {terms} = {v}", o=o + 1,
           terms=" + ".join(f"{factor(wt)}×{factor(p)}"
                            for wt, p in zip(weights[o], px, strict=True)),
           v=num(mixed[o, cy, cx])) for o in range(n_out)]
st.markdown("  \n".join(lines))
st.caption(t("Learned numbers: {formula} (with a bias per output channel).",
             formula=params_arithmetic(3, n_out, 1)))
