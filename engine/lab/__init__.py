"""Self-contained teaching labs: loss surfaces, an optimizer race, back-propagation, activations,
convolution and pooling."""
