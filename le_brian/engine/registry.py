"""The one list of what le_brian runs on: Brian2 devices, runtime code generation
targets and floating-point types (every choice list elsewhere refers to these)."""

__all__ = ["DEVICES", "CODEGEN_TARGETS", "DTYPES", "STANDALONE_DEVICES"]

#: Brian2 devices a network can run on.
DEVICES = ("runtime", "cpp_standalone", "cuda_standalone")
#: Devices that compile one program per structure.
STANDALONE_DEVICES = ("cpp_standalone", "cuda_standalone")
#: Code generation targets of the runtime device (auto picks Cython where it works).
CODEGEN_TARGETS = ("auto", "numpy", "cython")
#: Floating-point types of the state variables.
DTYPES = ("float64", "float32")
