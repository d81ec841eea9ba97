MemcpyHtoD,0x00007f1234500000,4096
kernel-1.traceg
MemcpyHtoD,0x00007f1234600000,4096
kernel-2.traceg
