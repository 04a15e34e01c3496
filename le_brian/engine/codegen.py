"""Shared machinery of le_brian's own code templates (dense and convolution paths):
code object classes that put a package template folder in front of Brian2's, and
the choice of class per device."""

from brian2.devices.device import get_device

__all__ = ["derived_code_object_class", "standalone_kind"]


def derived_code_object_class(name, codeobj_base, generator_base, templates_dir,
                              generator_mixin=None, **generator_attrs):
    """A code object class: ``codeobj_base`` with the templates of ``templates_dir``
    (relative to the ``le_brian`` package) in front of its own, and a generator class
    that adds ``generator_mixin`` (if any) to ``generator_base``.

    Parameters
    ----------
    name : str
        Name of the new class.
    codeobj_base : type
        Brian2 code object class, e.g. ``CPPStandaloneCodeObject``.
    generator_base : type
        Its code generator class, e.g. ``CPPCodeGenerator``.
    templates_dir : str
        Folder of the package's templates, e.g. ``'templates/dense_cpp'``.
    generator_mixin : type, optional
        Mixin class put in front of ``generator_base``.
    **generator_attrs
        Class attributes of the generator class.

    Returns
    -------
    type
    """
    bases = ((generator_mixin,) if generator_mixin is not None else ()) + (generator_base,)
    generator = type(f"{name}Generator", bases,
                     dict(generator_attrs, __doc__=f"{generator_base.__name__} for "
                          f"le_brian's templates ({templates_dir})."))
    return type(name, (codeobj_base,), {
        "__doc__": f"{codeobj_base.__name__} with le_brian's templates ({templates_dir}).",
        "templater": codeobj_base.templater.derive("le_brian", templates_dir=templates_dir),
        "generator_class": generator,
        # function implementations registered for the base generator apply here too
        "original_generator_class": generator_base,
    })


def standalone_kind(device=None):
    """``'cpp'`` on cpp_standalone, ``'cuda'`` on cuda_standalone, None elsewhere
    (runtime targets); ``device`` defaults to the active device."""
    device = get_device() if device is None else device
    return {"CPPStandaloneDevice": "cpp",
            "CUDAStandaloneDevice": "cuda"}.get(type(device).__name__)
