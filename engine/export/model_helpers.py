"""The classes and functions a written model needs for some layer types, as source text.

Each computes exactly what the engine's module of that layer type computes (same
operations, same order, same parameter names), without what only the app's views use
(recording attention maps or hidden states).
"""

# Helper code a script needs for some layer types, included once each.
HELPERS: dict[str, str] = {
    "sign": '''
class SignSTE(torch.autograd.Function):
    """-1 or +1 forward; the identity's gradient backward (straight-through), so a
    perceptron's hard threshold can still be trained by gradient descent."""

    @staticmethod
    def forward(ctx, x):
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, grad):
        return grad


def sign_ste(x):
    return SignSTE.apply(x)
''',
    "positional": '''
def sinusoidal(length, width):
    """[length, width]: sin at even features, cos at odd ones, wavelengths 2pi to 10000*2pi."""
    pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, width, 2, dtype=torch.float32)
                     * (-math.log(10000.0) / width))
    pe = torch.zeros(length, width)
    pe[:, 0::2] = torch.sin(pos * rate)
    pe[:, 1::2] = torch.cos(pos * rate)[:, : width // 2]
    return pe


class Positional(nn.Module):
    """Adds to each position a vector that tells where it is: fixed waves or learned."""

    def __init__(self, length, width, kind):
        super().__init__()
        if kind == "learned":
            self.table = nn.Parameter(torch.randn(length, width) * 0.02)
        else:
            self.register_buffer("table", sinusoidal(length, width), persistent=False)

    def forward(self, x):
        return x + self.table[: x.shape[1]]
''',
    "batch_norm": '''
def single_per_channel(x):
    """One value per channel over the batch (and positions): a batch of one flat sample."""
    return x.numel() <= x.shape[1]


class BatchNorm1d(nn.BatchNorm1d):
    """Batch norm that survives a batch of one: such a batch has no spread of its own, so
    it is normalised by the running statistics (left unchanged), as in evaluation."""

    def forward(self, x):
        if self.training and single_per_channel(x):
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight,
                                self.bias, False, 0.0, self.eps)
        return super().forward(x)


class BatchNorm2d(nn.BatchNorm2d):
    """The same for images: a 1x1 image of one example has one value per channel."""

    def forward(self, x):
        if self.training and single_per_channel(x):
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight,
                                self.bias, False, 0.0, self.eps)
        return super().forward(x)
''',
    "attention": '''
class Attention(nn.Module):
    """One attention head. Dot scoring: q.k / sqrt(d); additive (Bahdanau): v tanh(Wq + Uk)."""

    def __init__(self, q_features, kv_features, dim, scoring, causal):
        super().__init__()
        self.scoring, self.causal, self.dim = scoring, causal, dim
        additive = scoring == "additive"
        self.q_proj = nn.Linear(q_features, dim, bias=not additive)
        self.k_proj = nn.Linear(kv_features, dim)
        self.v_proj = nn.Linear(kv_features, dim)
        self.score = nn.Linear(dim, 1, bias=False) if additive else None

    def forward(self, x, context=None):
        context = x if context is None else context
        q, k, v = self.q_proj(x), self.k_proj(context), self.v_proj(context)
        if self.score is not None:  # [B, Tq, 1, d] + [B, 1, Tk, d] -> [B, Tq, Tk]
            scores = self.score(torch.tanh(q.unsqueeze(2) + k.unsqueeze(1))).squeeze(-1)
        else:
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.dim)
        if self.causal:  # query i reads keys j <= i only
            allowed = torch.ones(scores.shape[-2], scores.shape[-1], dtype=torch.bool).tril()
            scores = scores.masked_fill(~allowed, float("-inf"))
        return torch.softmax(scores, dim=-1) @ v
''',
    "multihead": '''
class MultiHeadAttention(nn.Module):
    """Heads of scaled dot-product attention, merged by an output projection."""

    def __init__(self, q_features, kv_features, dim, heads, causal, dropout):
        super().__init__()
        self.heads, self.causal, self.dropout = heads, causal, dropout
        self.q_proj = nn.Linear(q_features, dim)
        self.k_proj = nn.Linear(kv_features, dim)
        self.v_proj = nn.Linear(kv_features, dim)
        self.out_proj = nn.Linear(dim, dim)

    def split(self, x):  # [B, T, dim] -> [B, heads, T, dim / heads]
        b, n, d = x.shape
        return x.view(b, n, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x, context=None):
        context = x if context is None else context
        q = self.split(self.q_proj(x))
        k = self.split(self.k_proj(context))
        v = self.split(self.v_proj(context))
        p = self.dropout if self.training else 0.0
        tq, tk = q.shape[-2], k.shape[-2]
        if self.causal and tq != tk:  # is_causal assumes a square mask
            mask = torch.ones(tq, tk, dtype=torch.bool).tril()
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        else:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=self.causal)
        b, h, n, d = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, h * d))
''',
    "transformer": '''
class TransformerBlock(nn.Module):
    """Self-attention (then cross-attention to a memory, in a decoder) and a feed-forward
    network, each in a residual connection with layer norm after (post) or before (pre)."""

    def __init__(self, width, memory, heads, feedforward, dropout, norm, activation, causal):
        super().__init__()
        self.pre = norm == "pre"
        self.self_attn = MultiHeadAttention(width, width, width, heads, causal, dropout)
        self.cross_attn = (None if memory is None else
                           MultiHeadAttention(width, memory, width, heads, False, dropout))
        act = nn.GELU() if activation == "gelu" else nn.ReLU()
        self.ff = nn.Sequential(nn.Linear(width, feedforward), act, nn.Dropout(dropout),
                                nn.Linear(feedforward, width))
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(2 + (memory is not None)))
        self.drop = nn.Dropout(dropout)

    def sub(self, x, i, f):
        if self.pre:
            return x + self.drop(f(self.norms[i](x)))
        return self.norms[i](x + self.drop(f(x)))

    def forward(self, x, memory=None):
        x = self.sub(x, 0, self.self_attn)
        if self.cross_attn is not None:
            x = self.sub(x, 1, lambda h: self.cross_attn(h, memory))
        return self.sub(x, len(self.norms) - 1, self.ff)
''',
}
