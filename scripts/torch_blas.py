"""Gives the PyTorch references of the bench scripts the fastest BLAS this machine has.

Imported by the reference scripts *before* `import torch`. Debian's python3-torch does its matrix
products (Linear, attention, the MLPs of ConvNeXt and ViT) through whatever libblas.so.3 the
alternatives system points at. With only libblas3 installed that is netlib's reference BLAS,
single-threaded and unvectorized: ConvNeXt-T inference then takes minutes. With libopenblas0-pthread
it is OpenBLAS, but in a VM that hides the CPU model OpenBLAS picks its generic "Prescott" kernel
(23 GFLOP/s on one core of this machine against 190 on two with its AVX-512 kernel).

So, unless the caller set them: OPENBLAS_CORETYPE=SkylakeX when the CPU has AVX-512F (Haswell when it
has AVX2 only), and OPENBLAS_NUM_THREADS = the thread count the script was asked for. `describe()`
names the BLAS that was loaded, for the report, and says when it is the reference one.
"""
import os


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def configure(argv):
    """Sets the OpenBLAS variables from the CPU flags and the script's --threads argument."""
    threads = None
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            threads = argv[i + 1]
        elif arg.startswith("--threads="):
            threads = arg.split("=", 1)[1]
    flags = _cpu_flags()
    if "avx512f" in flags:
        os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
    elif "avx2" in flags:
        os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")
    if threads:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads))


def describe():
    """The libblas that torch loaded (call after importing torch and running one matrix product)."""
    path = ""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                if "blas" in line and ".so" in line:
                    path = os.path.realpath(line.split()[-1])
                    break
    except OSError:
        pass
    if not path:
        return "blas unknown"
    if "openblas" in path:
        return "OpenBLAS (%s)" % os.environ.get("OPENBLAS_CORETYPE", "auto-detected core")
    if path.endswith("/blas/libblas.so.3"):
        return "reference BLAS (netlib; apt-get install libopenblas0-pthread for a fair comparison)"
    return path
