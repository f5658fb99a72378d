"""The TensorFlow shim behind :mod:`jaxinit.tf` (imports TensorFlow).

``arrays`` holds the TensorFlow initializer of a fixed array and the TF
transfer functions; ``export`` turns a network into those initializers and
into PsychRNN's initializer object and parameter dict.
"""
