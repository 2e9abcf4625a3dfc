"""The preset dictionary of version-2 share links (``np2.``), frozen.

zlib starts a link's compression with this text as if it had just been seen, so the JSON
keys, layer types and lesson words a spec repeats cost a few bits instead of their
letters. Changing one byte here would make every np2 link already shared unreadable: a
new dictionary needs a new prefix (np3) and this one kept for the old links. The test
pins its checksum.
"""

from __future__ import annotations

# The least frequent first: deflate reaches the end of the dictionary with shorter
# distances, so the fragments nearly every spec has come last.
SHARE_DICTIONARY = (
    b" the lesson: watch the test accuracy and the training loss; then try a smaller learning "
    b"rate, more hidden layers or neurons, and see the decision boundary, the gradient flow "
    b"view and the weights of each layer. A deep network with sigmoid, tanh or relu "
    b"activation; overfitting, dropout, early stopping, batch normalisation, He "
    b"initialisation, gradient clipping, residual connections cure vanishing or exploding "
    b"gradients. Two-layer MLP on the spiral, circle, xor, moons, gaussians, plane, sine, "
    b"iris, wine, digits; one unit per class; fails; cure: "
    b'"init":{"scheme":"he_normal"},"inputs":["input"],'
    b'"params":{"p":0.5},"type":"dropout"},{"id":"bn1","type":"batchnorm1d"},'
    b'{"id":"add1","inputs":["h1","h2"],"type":"add"},'
    b'"regularization":{"l2":0.001},"early_stopping":{"patience":10},"grad_clip":1.0,'
    b'"schedule":{"name":"cosine"},"loss":"mse","task":"regression",'
    b'"optimizer":{"momentum":0.9,"name":"momentum"},{"lr":0.1,"name":"sgd"},'
    b'"features":["x1","x2","x1^2","x2^2","x1x2","sin_x1","sin_x2"],"seed":1,'
    b'{"data":{"name":"circle","params":{"n_samples":500,"noise":0.1,"train_ratio":0.5}},'
    b'"meta":{"description":"","lesson":"","name":""},'
    b'"model":{"nodes":[{"id":"hidden1","params":{"activation":"relu","units":8},'
    b'"type":"linear"},{"id":"hidden2","params":{"activation":"sigmoid","units":4},'
    b'"type":"linear"},{"id":"hidden3","params":{"activation":"tanh","units":32},'
    b'"type":"linear"},{"id":"output","params":{"units":2},"type":"linear"}]},'
    b'"probes":[{"every":20,"name":"gradient_flow"},{"every":100,"name":"activations"},'
    b'{"every":1,"name":"evaluation"},{"every":10,"name":"boundary"}],"schema":1,'
    b'"train":{"batch_size":10,"epochs":100,"optimizer":{"lr":0.03,"name":"adam"}}}'
)
