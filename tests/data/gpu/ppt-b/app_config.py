# Hand-written in the layout of the ppt-gpu-subcore fork's tracer (memory records one per line, bare hex).
kernel_1 = {
    "kernel_name": 'stencil',
    "num_registers": 24,
    "shared_mem_bytes": 0,
    "grid_size": 3,
    "block_size": 128,
    "cuda_stream_id": 0,
}
app_kernels_id = [1]
