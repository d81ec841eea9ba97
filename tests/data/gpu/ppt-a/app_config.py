kernel_1 = {

	"kernel_name"			: "vecadd",
	"num_registers"			: 16,
	"shared_mem_bytes"		: 1024,
	"grid_size"			: 2,
	"block_size"			: 64,
	"cuda_stream_id"		: 0
}

kernel_2 = {

	"kernel_name"			: "_Z6reducePfi",
	"num_registers"			: 32,
	"shared_mem_bytes"		: 0,
	"grid_size"			: 1,
	"block_size"			: 32,
	"cuda_stream_id"		: 7
}

app_kernels_id = [1, 2]