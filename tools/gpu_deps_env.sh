# Sourced by tools/gpu_check.sh and tools/gpu_accuracy.sh on a GPU machine that reaches no
# package registry: unpacks the Debian packages tools/gpu_deps.sh put in .gpu-deps/ (doctest,
# OpenBLAS, zlib headers) and points the compiler, the linker and the loader at them; sets $data
# to Fashion-MNIST where Debian puts it, else to the copy in .gpu-deps/.
if compgen -G ".gpu-deps/*.deb" >/dev/null; then
  prefix=/tmp/facet-deps
  mkdir -p "$prefix"
  for f in .gpu-deps/*.deb; do  # dpkg-deb where the image has it, else the .deb's own archive
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$f" "$prefix"; else ar p "$f" data.tar.xz | tar -xJ -C "$prefix"; fi
  done
  blas_inc="$prefix/usr/include/x86_64-linux-gnu/openblas-pthread"
  blas_lib="$prefix/usr/lib/x86_64-linux-gnu/openblas-pthread"
  export CPATH="$prefix/usr/include:$blas_inc${CPATH:+:$CPATH}"
  export LIBRARY_PATH="$blas_lib:$prefix/usr/lib/x86_64-linux-gnu${LIBRARY_PATH:+:$LIBRARY_PATH}"
  export LD_LIBRARY_PATH="$blas_lib:$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
data=/usr/share/datasets/fashion-mnist
[ -f "$data/train-images-idx3-ubyte.gz" ] || data=.gpu-deps/fashion-mnist
