// The argument layout of every Pilgrim function: what each wrapper records in a call-signature key.
#include "mpi/signature_layouts.hpp"

namespace whatif::mpi {

// ---------------------------------------------------------------------------------------------------
// Argument layouts.
//
// One string per function lists the arguments its wrapper records, in key order. Token syntax:
//   [?]K:name[rule]
// '?' marks an argument that may be absent: it is read only when bytes remain (Pilgrim records some
// arguments only sometimes: Testany/Waitany's status, Testall's statuses, Waitsome/Testsome's indices).
// K is the storage kind:
//   p pointer record (32 B)   i int32   w int32 in an 8-byte slot   l int64 (MPI_Aint/MPI_Count/MPI_Offset*)
//   P peer   T tag   R root   C comm   D datatype   O op   q request   h handle (all 4 B)
//   e an MPI_Errhandler, always last: 4 bytes (MPICH's int handle, Pilgrim's symbolic id) or 8 (Open MPI's
//     pointer), whichever the key has left, since the wrappers copy sizeof(MPI_Errhandler) bytes
//   s status (2 ints)   z NUL-terminated string   b opaque bytes
//   I int32[]   L int64[]   Y datatype[]   Q request[]   S status[] (2 ints each)
// rule gives the element count of arrays and bytes: a number, an earlier argument's value ("count"),
// "cs" (the key's comm_size field) or a multiple ("3*n"). A layout starting with "^" has the comm_size
// field after the tid.
//
// Sources: pmodels/pilgrim src/pilgrim_wrappers.c and src/pilgrim_wrappers_special.c (argument order and
// which ones are recorded), adjusted to what the traced commit a2b828b writes, as measured on real traces:
// buffers are 32-byte pointer records; communicators and every other object id take 4 bytes; function
// pointers take 1 byte (sizeof a function type under GCC); by-value MPI_Offset is not in the key; MPI_T
// handles are 8-byte pointers; arrays whose length the wrapper did not know are sized by the communicator
// in the "^" calls (Cart_rank records even its output 'rank' as comm_size ints, which is why its key is
// 46 bytes on 4 ranks). Request-making calls other than Isend/Irecv/Recv_init may or may not carry a
// request id at a2b828b, so theirs is optional.
namespace {

constexpr LayoutText kLayouts[] = {
    {"Type_delete_attr", "D:datatype h:type_keyval"},
    {"Sendrecv_replace", "p:buf i:count D:datatype P:dest T:sendtag P:source T:recvtag C:comm s:status"},
    {"Win_create", "p:base l:size i:disp_unit h:info C:comm h:win"},
    {"File_write_all_begin", "h:fh p:buf i:count D:datatype"},
    {"Error_class", "i:errorcode i:errorclass"},
    {"Free_mem", "p:base"},
    {"Win_get_info", "h:win h:info_used"},
    {"Buffer_detach", "p:buffer_addr i:size"},
    {"Aint_add", "l:base l:disp"},
    {"Win_flush_local_all", "h:win"},
    // 10
    {"Comm_create_keyval", "b:comm_copy_attr_fn[1] b:comm_delete_attr_fn[1] h:comm_keyval p:extra_state"},
    {"Comm_get_parent", "C:parent"},
    {"Testany", "i:count Q:array_of_requests[count] i:index i:flag ?s:status"},
    {"T_cvar_handle_alloc", "i:cvar_index p:obj_handle b:handle[8] i:count"},
    {"Comm_idup", "C:comm C:newcomm ?q:request"},
    {"Win_set_name", "h:win z:win_name"},
    {"Type_dup", "D:oldtype D:newtype"},
    {"T_pvar_get_index", "z:name i:var_class i:pvar_index"},
    {"Add_error_code", "i:errorclass i:errorcode"},
    {"Type_create_resized", "D:oldtype l:lb l:extent D:newtype"},
    // 20
    {"Get_address", "p:location l:address"},
    {"Iallgather", "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype C:comm ?q:request"},
    {"Get_count", "s:status D:datatype i:count"},
    {"Grequest_start", "b:query_fn[1] b:free_fn[1] b:cancel_fn[1] p:extra_state ?q:request"},
    {"Cartdim_get", "C:comm i:ndims"},
    {"Allgather", "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype C:comm"},
    {"Cart_coords", "C:comm i:rank i:maxdims I:coords[maxdims]"},
    {"Comm_split_type", "C:comm i:split_type i:key h:info C:newcomm"},
    {"Rsend", "p:buf i:count D:datatype P:dest T:tag C:comm"},
    {"File_get_amode", "h:fh i:amode"},
    // 30
    {"Neighbor_allgatherv",
     "^ p:sendbuf i:sendcount D:sendtype p:recvbuf I:recvcounts[cs] I:displs[cs] D:recvtype C:comm"},
    {"Info_create", "h:info"},
    {"Type_create_f90_complex", "i:p i:r D:newtype"},
    {"Status_set_elements_x", "s:status D:datatype l:count"},
    {"Comm_set_name", "C:comm z:comm_name"},
    {"Comm_remote_group", "C:comm h:group"},
    {"Cart_shift", "C:comm i:direction i:disp i:rank_source i:rank_dest"},
    {"Comm_size", "C:comm i:size"},
    {"T_pvar_get_num", "i:num_pvar"},
    {"Request_free", "q:request"},
    // 40
    {"File_read_all_end", "h:fh p:buf s:status"},
    {"Irsend", "p:buf i:count D:datatype P:dest T:tag C:comm ?q:request"},
    {"Comm_compare", "C:comm1 C:comm2 i:result"},
    {"Ineighbor_alltoall",
     "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype C:comm ?q:request"},
    {"Query_thread", "i:provided"},
    {"T_cvar_get_index", "z:name i:cvar_index"},
    {"Allgatherv",
     "^ p:sendbuf i:sendcount D:sendtype p:recvbuf I:recvcounts[cs] I:displs[cs] D:recvtype C:comm"},
    {"Neighbor_allgather", "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype C:comm"},
    {"T_category_get_pvars", "i:cat_index i:len I:indices[len]"},
    {"Comm_free_keyval", "h:comm_keyval"},
    // 50
    {"Op_create", "b:user_fn[1] i:commute O:op"},
    {"T_enum_get_info", "b:enumtype[8] i:num z:name i:name_len"},
    {"Ssend_init", "p:buf i:count D:datatype P:dest T:tag C:comm ?q:request"},
    {"Rsend_init", "p:buf i:count D:datatype P:dest T:tag C:comm ?q:request"},
    {"Igatherv",
     "^ p:sendbuf i:sendcount D:sendtype p:recvbuf I:recvcounts[cs] I:displs[cs] D:recvtype R:root C:comm "
     "?q:request"},
    {"Mrecv", "p:buf i:count D:datatype h:message s:status"},
    {"Group_excl", "h:group i:n I:ranks[n] h:newgroup"},
    {"Comm_test_inter", "C:comm i:flag"},
    {"File_read_all_begin", "h:fh p:buf i:count D:datatype"},
    {"Win_attach", "h:win p:base l:size"},
    // 60
    {"File_read_at_all", "h:fh p:buf i:count D:datatype s:status"},
    {"File_read_ordered_end", "h:fh p:buf s:status"},
    {"Type_set_attr", "D:datatype h:type_keyval p:attribute_val"},
    {"Group_union", "h:group1 h:group2 h:newgroup"},
    {"Type_get_contents",
     "D:datatype i:max_integers i:max_addresses i:max_datatypes I:array_of_integers[max_integers] "
     "L:array_of_addresses[max_addresses] Y:array_of_datatypes[max_datatypes]"},
    {"Win_lock", "i:lock_type i:rank i:assert h:win"},
    {"Type_size_x", "D:datatype l:size"},
    {"T_category_changed", "i:stamp"},
    {"Comm_set_info", "C:comm h:info"},
    {"T_pvar_stop", "b:session[8] b:handle[8]"},
    // 70
    {"Type_get_envelope", "D:datatype i:num_integers i:num_addresses i:num_datatypes i:combiner"},
    {"Send", "p:buf i:count D:datatype P:dest T:tag C:comm"},
    {"Win_delete_attr", "h:win h:win_keyval"},
    {"Finalize", ""},
    {"Type_create_hindexed_block",
     "i:count i:blocklength L:array_of_displacements[count] D:oldtype D:newtype"},
    {"Keyval_free", "h:keyval"},
    {"Alloc_mem", "l:size h:info p:baseptr"},
    {"File_get_atomicity", "h:fh i:flag"},
    {"Dist_graph_create",
     "C:comm_old i:n I:sources[n] I:degrees[n] I:destinations[1] I:weights[1] h:info i:reorder "
     "C:comm_dist_graph"},
    {"File_write_at", "h:fh p:buf i:count D:datatype s:status"},
    // 80
    {"File_close", "h:fh"},
    {"Comm_call_errhandler", "C:comm i:errorcode"},
    {"Win_flush_local", "i:rank h:win"},
    {"File_create_errhandler", "b:file_errhandler_fn[1] e:errhandler"},
    {"Group_free", "h:group"},
    {"Ialltoall", "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype C:comm ?q:request"},
    {"Comm_rank", "C:comm i:rank"},
    {"Cancel", "?q:request"},
    {"Win_post", "h:group i:assert h:win"},
    {"Type_commit", "D:datatype"},
    // 90
    {"File_iwrite_shared", "h:fh p:buf i:count D:datatype ?q:request"},
    {"Type_get_extent_x", "D:datatype l:lb l:extent"},
    {"Probe", "P:source T:tag C:comm s:status"},
    {"Cart_get", "C:comm i:maxdims I:dims[maxdims] I:periods[maxdims] I:coords[maxdims]"},
    {"Win_flush", "i:rank h:win"},
    {"Intercomm_create", "C:local_comm i:local_leader C:peer_comm i:remote_leader T:tag C:newintercomm"},
    {"Allreduce", "p:sendbuf p:recvbuf i:count D:datatype O:op C:comm"},
    {"Type_contiguous", "i:count D:oldtype D:newtype"},
    {"Reduce", "p:sendbuf p:recvbuf i:count D:datatype O:op R:root C:comm"},
    {"File_get_position", "h:fh l:offset"},
    // 100
    {"Recv_init", "p:buf i:count D:datatype P:source T:tag C:comm q:request"},
    {"Comm_group", "C:comm h:group"},
    {"Is_thread_main", "i:flag"},
    {"File_iwrite_all", "h:fh p:buf i:count D:datatype ?q:request"},
    {"Type_create_indexed_block",
     "i:count i:blocklength I:array_of_displacements[count] D:oldtype D:newtype"},
    {"Wait", "q:request s:status"},
    {"Type_create_hindexed",
     "i:count I:array_of_blocklengths[count] L:array_of_displacements[count] D:oldtype D:newtype"},
    {"Dist_graph_neighbors",
     "^ C:comm i:maxindegree I:sources[maxindegree] I:sourceweights[cs] i:maxoutdegree "
     "I:destinations[maxoutdegree] I:destweights[cs]"},
    {"Error_string", "i:errorcode z:string i:resultlen"},
    {"File_sync", "h:fh"},
    // 110
    {"Ineighbor_allgatherv",
     "^ p:sendbuf i:sendcount D:sendtype p:recvbuf I:recvcounts[cs] I:displs[cs] D:recvtype C:comm "
     "?q:request"},
    {"Compare_and_swap",
     "p:origin_addr p:compare_addr p:result_addr D:datatype i:target_rank l:target_disp h:win"},
    {"Win_unlock_all", "h:win"},
    {"Type_get_attr", "D:datatype h:type_keyval p:attribute_val i:flag"},
    {"Comm_disconnect", "C:comm"},
    {"T_pvar_readreset", "b:session[8] b:handle[8] p:buf"},
    {"Attr_get", "C:comm h:keyval p:attribute_val i:flag"},
    {"T_cvar_handle_free", "b:handle[8]"},
    {"T_enum_get_item", "b:enumtype[8] i:index i:value z:name i:name_len"},
    {"File_call_errhandler", "h:fh i:errorcode"},
    // 120
    {"Group_compare", "h:group1 h:group2 i:result"},
    {"Imrecv", "p:buf i:count D:datatype h:message ?q:request"},
    {"T_category_get_index", "z:name i:cat_index"},
    {"Test_cancelled", "s:status i:flag"},
    {"Buffer_attach", "p:buffer i:size"},
    {"Win_call_errhandler", "h:win i:errorcode"},
    {"Graph_neighbors_count", "C:comm i:rank i:nneighbors"},
    {"File_get_position_shared", "h:fh l:offset"},
    {"Cart_map", "C:comm i:ndims I:dims[ndims] I:periods[ndims] i:newrank"},
    {"File_iread", "h:fh p:buf i:count D:datatype ?q:request"},
    // 130
    {"Dist_graph_neighbors_count", "C:comm i:indegree i:outdegree i:weighted"},
    {"T_cvar_get_info",
     "i:cvar_index z:name i:name_len i:verbosity D:datatype b:enumtype[8] z:desc i:desc_len i:bind "
     "i:scope"},
    {"T_pvar_read", "b:session[8] b:handle[8] p:buf"},
    {"Type_set_name", "D:datatype z:type_name"},
    {"Neighbor_alltoallw",
     "^ p:sendbuf I:sendcounts[cs] L:sdispls[cs] Y:sendtypes[cs] p:recvbuf I:recvcounts[cs] L:rdispls[cs] "
     "Y:recvtypes[cs] C:comm"},
    {"Neighbor_alltoallv",
     "^ p:sendbuf I:sendcounts[cs] I:sdispls[cs] D:sendtype p:recvbuf I:recvcounts[cs] I:rdispls[cs] "
     "D:recvtype C:comm"},
    {"Publish_name", "z:service_name h:info z:port_name"},
    {"Type_get_extent", "D:datatype l:lb l:extent"},
    {"Graph_create", "C:comm_old i:nnodes I:index[nnodes] I:edges[1] i:reorder C:comm_graph"},
    {"Put",
     "p:origin_addr i:origin_count D:origin_datatype i:target_rank l:target_disp i:target_count "
     "D:target_datatype h:win"},
    // 140
    {"Win_create_dynamic", "h:info C:comm h:win"},
    {"Ibsend", "p:buf i:count D:datatype P:dest T:tag C:comm ?q:request"},
    {"Win_complete", "h:win"},
    {"Graph_map", "^ C:comm i:nnodes I:index[nnodes] I:edges[cs] I:newrank[cs]"},
    {"Info_get_valuelen", "h:info z:key i:valuelen i:flag"},
    {"Cart_sub", "^ C:comm I:remain_dims[cs] C:newcomm"},
    {"Info_get", "h:info z:key i:valuelen z:value i:flag"},
    {"File_iwrite_at", "h:fh p:buf i:count D:datatype ?q:request"},
    {"Comm_spawn", "^ z:command i:maxprocs h:info R:root C:comm C:intercomm I:array_of_errcodes[cs]"},
    {"Group_intersection", "h:group1 h:group2 h:newgroup"},
    // 150
    {"Iallgatherv",
     "^ p:sendbuf i:sendcount D:sendtype p:recvbuf I:recvcounts[cs] I:displs[cs] D:recvtype C:comm "
     "?q:request"},
    {"Ibcast", "p:buffer i:count D:datatype R:root C:comm ?q:request"},
    {"File_read_at_all_begin", "h:fh p:buf i:count D:datatype"},
    {"Info_get_nthkey", "h:info i:n z:key"},
    {"File_get_size", "h:fh l:size"},
    {"Rput",
     "p:origin_addr i:origin_count D:origin_datatype i:target_rank l:target_disp i:target_count "
     "D:target_datatype h:win ?q:request"},
    {"Type_indexed",
     "i:count I:array_of_blocklengths[count] I:array_of_displacements[count] D:oldtype D:newtype"},
    {"Send_init", "p:buf i:count D:datatype P:dest T:tag C:comm ?q:request"},
    {"File_write", "h:fh p:buf i:count D:datatype s:status"},
    {"File_set_info", "h:fh h:info"},
    // 160
    {"File_set_atomicity", "h:fh i:flag"},
    {"Graph_get", "C:comm i:maxindex i:maxedges I:index[maxindex] I:edges[maxedges]"},
    {"Pack_external_size", "b:datarep[1] i:incount D:datatype l:size"},
    {"Type_create_darray",
     "i:size i:rank i:ndims I:array_of_gsizes[ndims] I:array_of_distribs[ndims] I:array_of_dargs[ndims] "
     "I:array_of_psizes[ndims] i:order D:oldtype D:newtype"},
    {"Win_set_errhandler", "h:win e:errhandler"},
    {"Type_create_keyval", "b:type_copy_attr_fn[1] b:type_delete_attr_fn[1] h:type_keyval p:extra_state"},
    {"Comm_accept", "z:port_name h:info R:root C:comm C:newcomm"},
    {"Type_create_struct",
     "i:count I:array_of_blocklengths[count] L:array_of_displacements[count] Y:array_of_types[count] "
     "D:newtype"},
    {"Gather", "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype R:root C:comm"},
    {"Close_port", "z:port_name"},
    // 170
    {"Win_sync", "h:win"},
    {"Type_create_subarray",
     "i:ndims I:array_of_sizes[ndims] I:array_of_subsizes[ndims] I:array_of_starts[ndims] i:order "
     "D:oldtype D:newtype"},
    {"Win_free_keyval", "h:win_keyval"},
    {"File_write_at_all_end", "h:fh p:buf s:status"},
    {"Rget_accumulate",
     "p:origin_addr i:origin_count D:origin_datatype p:result_addr i:result_count D:result_datatype "
     "i:target_rank l:target_disp i:target_count D:target_datatype O:op h:win ?q:request"},
    {"Waitall", "i:count Q:array_of_requests[count] S:array_of_statuses[count]"},
    {"Comm_delete_attr", "C:comm h:comm_keyval"},
    {"Testall", "i:count Q:array_of_requests[count] i:flag ?S:array_of_statuses[count]"},
    {"Comm_create_errhandler", "b:comm_errhandler_fn[1] e:errhandler"},
    {"Barrier", "C:comm"},
    // 180
    {"Win_get_attr", "h:win h:win_keyval p:attribute_val i:flag"},
    {"File_get_byte_offset", "h:fh l:disp"},
    {"Waitsome",
     "i:incount Q:array_of_requests[incount] i:outcount ?I:array_of_indices[outcount] "
     "?S:array_of_statuses[outcount]"},
    {"Win_lock_all", "i:assert h:win"},
    {"Comm_get_name", "C:comm z:comm_name i:resultlen"},
    {"Group_range_excl", "h:group i:n I:ranges[3*n] h:newgroup"},
    {"Comm_split", "C:comm i:color i:key C:newcomm"},
    {"T_pvar_handle_alloc", "b:session[8] i:pvar_index p:obj_handle b:handle[8] i:count"},
    {"File_read_ordered_begin", "h:fh p:buf i:count D:datatype"},
    {"File_read_ordered", "h:fh p:buf i:count D:datatype s:status"},
    // 190
    {"Attr_delete", "C:comm h:keyval"},
    {"Win_get_errhandler", "h:win e:errhandler"},
    {"File_get_info", "h:fh h:info_used"},
    {"Info_dup", "h:info h:newinfo"},
    {"File_write_shared", "h:fh p:buf i:count D:datatype s:status"},
    {"File_iread_at", "h:fh p:buf i:count D:datatype ?q:request"},
    {"File_write_all_end", "h:fh p:buf s:status"},
    {"Comm_remote_size", "C:comm i:size"},
    {"Type_get_name", "D:datatype z:type_name i:resultlen"},
    {"File_write_at_all", "h:fh p:buf i:count D:datatype s:status"},
    // 200
    {"File_get_group", "h:fh h:group"},
    {"File_preallocate", "h:fh"},
    {"File_iread_all", "h:fh p:buf i:count D:datatype ?q:request"},
    {"T_cvar_write", "b:handle[8] p:buf"},
    {"Group_translate_ranks", "h:group1 i:n I:ranks1[n] h:group2 I:ranks2[n]"},
    {"Testsome",
     "i:incount Q:array_of_requests[incount] w:outcount ?I:array_of_indices[outcount] "
     "?S:array_of_statuses[outcount]"},
    {"Type_create_hvector", "i:count i:blocklength l:stride D:oldtype D:newtype"},
    {"Comm_get_attr", "C:comm h:comm_keyval p:attribute_val i:flag"},
    {"Initialized", "i:flag"},
    {"Comm_create_group", "C:comm h:group T:tag C:newcomm"},
    // 210
    {"Grequest_complete", "q:request"},
    {"Get_accumulate",
     "p:origin_addr i:origin_count D:origin_datatype p:result_addr i:result_count D:result_datatype "
     "i:target_rank l:target_disp i:target_count D:target_datatype O:op h:win"},
    {"Win_create_errhandler", "b:win_errhandler_fn[1] e:errhandler"},
    {"Init_thread", "?i:required ?i:provided"},
    {"Win_fence", "i:assert h:win"},
    {"T_category_get_info",
     "i:cat_index z:name i:name_len z:desc i:desc_len i:num_cvars i:num_pvars i:num_categories"},
    {"Group_difference", "h:group1 h:group2 h:newgroup"},
    {"T_pvar_start", "b:session[8] b:handle[8]"},
    {"Win_get_name", "h:win z:win_name i:resultlen"},
    {"Win_wait", "h:win"},
    // 220
    {"Scatterv",
     "^ p:sendbuf I:sendcounts[cs] I:displs[cs] D:sendtype p:recvbuf i:recvcount D:recvtype R:root C:comm"},
    {"File_write_all", "h:fh p:buf i:count D:datatype s:status"},
    {"Comm_connect", "z:port_name h:info R:root C:comm C:newcomm"},
    {"Win_flush_all", "h:win"},
    {"Win_get_group", "h:win h:group"},
    {"File_set_size", "h:fh"},
    {"Status_set_cancelled", "s:status i:flag"},
    {"Reduce_local", "p:inbuf p:inoutbuf i:count D:datatype O:op"},
    {"T_pvar_write", "b:session[8] b:handle[8] p:buf"},
    {"Graph_neighbors", "C:comm i:rank i:maxneighbors I:neighbors[maxneighbors]"},
    // 230
    {"Dims_create", "i:nnodes i:ndims I:dims[ndims]"},
    {"Scatter", "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype R:root C:comm"},
    {"Ireduce_scatter_block", "p:sendbuf p:recvbuf i:recvcount D:datatype O:op C:comm ?q:request"},
    {"Ialltoallw",
     "^ p:sendbuf I:sendcounts[cs] I:sdispls[cs] Y:sendtypes[cs] p:recvbuf I:recvcounts[cs] I:rdispls[cs] "
     "Y:recvtypes[cs] C:comm ?q:request"},
    {"Ialltoallv",
     "^ p:sendbuf I:sendcounts[cs] I:sdispls[cs] D:sendtype p:recvbuf I:recvcounts[cs] I:rdispls[cs] "
     "D:recvtype C:comm ?q:request"},
    {"Comm_free", "C:comm"},
    {"T_cvar_read", "b:handle[8] p:buf"},
    {"Neighbor_alltoall", "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype C:comm"},
    {"Alltoall", "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype C:comm"},
    {"Comm_spawn_multiple",
     "^ i:count I:array_of_maxprocs[count] I:array_of_info[count] R:root C:comm C:intercomm "
     "I:array_of_errcodes[cs]"},
    // 240
    {"Comm_dup_with_info", "C:comm h:info C:newcomm"},
    {"Pcontrol", "i:level"},
    {"T_pvar_handle_free", "b:session[8] b:handle[8]"},
    {"Type_free", "D:datatype"},
    {"Win_test", "h:win i:flag"},
    {"File_write_at_all_begin", "h:fh p:buf i:count D:datatype"},
    {"Comm_get_errhandler", "C:comm e:errhandler"},
    {"Mprobe", "P:source T:tag C:comm h:message s:status"},
    {"Info_get_nkeys", "h:info i:nkeys"},
    {"Finalized", "i:flag"},
    // 250
    {"Op_commutative", "O:op i:commute"},
    {"Dist_graph_create_adjacent",
     "C:comm_old i:indegree I:sources[indegree] I:sourceweights[1] i:outdegree I:destinations[outdegree] "
     "I:destweights[1] h:info i:reorder C:comm_dist_graph"},
    {"Info_delete", "h:info z:key"},
    {"File_iread_at_all", "h:fh p:buf i:count D:datatype ?q:request"},
    {"Cart_rank", "^ C:comm I:coords[cs] I:rank[cs]"},
    {"File_read_at", "h:fh p:buf i:count D:datatype s:status"},
    {"Iallreduce", "p:sendbuf p:recvbuf i:count D:datatype O:op C:comm ?q:request"},
    {"Type_size", "D:datatype i:size"},
    {"Fetch_and_op", "p:origin_addr p:result_addr D:datatype i:target_rank l:target_disp O:op h:win"},
    {"Reduce_scatter_block", "p:sendbuf p:recvbuf i:recvcount D:datatype O:op C:comm"},
    // 260
    {"Rget",
     "p:origin_addr i:origin_count D:origin_datatype i:target_rank l:target_disp i:target_count "
     "D:target_datatype h:win ?q:request"},
    {"Win_set_attr", "h:win h:win_keyval p:attribute_val"},
    {"Type_create_f90_integer", "i:r D:newtype"},
    {"Iscatterv",
     "^ p:sendbuf I:sendcounts[cs] I:displs[cs] D:sendtype p:recvbuf i:recvcount D:recvtype R:root C:comm "
     "?q:request"},
    {"File_delete", "z:filename h:info"},
    {"File_read_all", "h:fh p:buf i:count D:datatype s:status"},
    {"Group_size", "h:group i:size"},
    {"Attr_put", "C:comm h:keyval p:attribute_val"},
    {"Iscatter",
     "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype R:root C:comm ?q:request"},
    {"Win_start", "h:group i:assert h:win"},
    // 270
    {"Win_free", "h:win"},
    {"Alltoallw",
     "^ p:sendbuf I:sendcounts[cs] I:sdispls[cs] Y:sendtypes[cs] p:recvbuf I:recvcounts[cs] I:rdispls[cs] "
     "Y:recvtypes[cs] C:comm"},
    {"Alltoallv",
     "^ p:sendbuf I:sendcounts[cs] I:sdispls[cs] D:sendtype p:recvbuf I:recvcounts[cs] I:rdispls[cs] "
     "D:recvtype C:comm"},
    {"Exscan", "p:sendbuf p:recvbuf i:count D:datatype O:op C:comm"},
    {"Op_free", "O:op"},
    {"Iscan", "p:sendbuf p:recvbuf i:count D:datatype O:op C:comm ?q:request"},
    {"Keyval_create", "b:copy_fn[1] b:delete_fn[1] h:keyval p:extra_state"},
    {"Type_vector", "i:count i:blocklength i:stride D:oldtype D:newtype"},
    {"Win_create_keyval", "b:win_copy_attr_fn[1] b:win_delete_attr_fn[1] h:win_keyval p:extra_state"},
    {"Type_match_size", "i:typeclass i:size D:datatype"},
    // 280
    {"Scan", "p:sendbuf p:recvbuf i:count D:datatype O:op C:comm"},
    {"Startall", "i:count ?Q:array_of_requests[count]"},
    {"File_seek_shared", "h:fh i:whence"},
    {"Wtime", ""},
    {"Add_error_class", "i:errorclass"},
    {"Igather", "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype R:root C:comm ?q:request"},
    {"Info_free", "h:info"},
    {"Open_port", "h:info z:port_name"},
    {"Win_allocate", "l:size i:disp_unit h:info C:comm p:baseptr h:win"},
    {"Win_set_info", "h:win h:info"},
    // 290
    {"Unpublish_name", "z:service_name h:info z:port_name"},
    {"Group_rank", "h:group i:rank"},
    {"Lookup_name", "z:service_name h:info z:port_name"},
    {"Recv", "p:buf i:count D:datatype P:source T:tag C:comm s:status"},
    {"Type_free_keyval", "h:type_keyval"},
    {"Comm_get_info", "C:comm h:info_used"},
    {"T_pvar_session_create", "b:session[8]"},
    {"T_init_thread", "i:required i:provided"},
    {"File_open", "C:comm z:filename i:amode h:info h:fh"},
    {"Bsend", "p:buf i:count D:datatype P:dest T:tag C:comm"},
    // 300
    {"Ireduce_scatter", "^ p:sendbuf p:recvbuf I:recvcounts[cs] D:datatype O:op C:comm ?q:request"},
    {"Irecv", "p:buf i:count D:datatype P:source T:tag C:comm q:request"},
    {"Issend", "p:buf i:count D:datatype P:dest T:tag C:comm ?q:request"},
    {"File_iwrite_at_all", "h:fh p:buf i:count D:datatype ?q:request"},
    {"Abort", "C:comm i:errorcode"},
    {"Pack", "p:inbuf i:incount D:datatype p:outbuf i:outsize i:position C:comm"},
    {"File_iwrite", "h:fh p:buf i:count D:datatype ?q:request"},
    {"Gatherv",
     "^ p:sendbuf i:sendcount D:sendtype p:recvbuf I:recvcounts[cs] I:displs[cs] D:recvtype R:root C:comm"},
    {"Comm_create", "C:comm h:group C:newcomm"},
    {"File_write_ordered", "h:fh p:buf i:count D:datatype s:status"},
    // 310
    {"Comm_dup", "C:comm C:newcomm"},
    {"T_finalize", ""},
    {"File_iread_shared", "h:fh p:buf i:count D:datatype ?q:request"},
    {"File_set_errhandler", "h:file e:errhandler"},
    {"Register_datarep",
     "z:datarep b:read_conversion_fn[1] b:write_conversion_fn[1] b:dtype_file_extent_fn[1] p:extra_state"},
    {"Init", ""},
    {"Reduce_scatter", "^ p:sendbuf p:recvbuf I:recvcounts[cs] D:datatype O:op C:comm"},
    {"Ibarrier", "C:comm ?q:request"},
    {"Type_create_f90_real", "i:p i:r D:newtype"},
    {"File_seek", "h:fh i:whence"},
    // 320
    {"T_cvar_get_num", "i:num_cvar"},
    {"Group_incl", "h:group i:n I:ranks[n] h:newgroup"},
    {"Get_version", "i:version i:subversion"},
    {"Pack_external", "b:datarep[1] p:inbuf i:incount D:datatype p:outbuf l:outsize l:position"},
    {"File_read", "h:fh p:buf i:count D:datatype s:status"},
    {"Type_get_true_extent", "D:datatype l:true_lb l:true_extent"},
    {"Cart_create", "C:comm_old i:ndims I:dims[ndims] I:periods[ndims] i:reorder C:comm_cart"},
    {"Sendrecv",
     "p:sendbuf i:sendcount D:sendtype P:dest T:sendtag p:recvbuf i:recvcount D:recvtype P:source "
     "T:recvtag C:comm s:status"},
    {"Win_shared_query", "h:win i:rank l:size i:disp_unit p:baseptr"},
    {"Comm_set_attr", "C:comm h:comm_keyval p:attribute_val"},
    // 330
    {"Win_allocate_shared", "l:size i:disp_unit h:info C:comm p:baseptr h:win"},
    {"Type_get_true_extent_x", "D:datatype l:true_lb l:true_extent"},
    {"Bcast", "p:buffer i:count D:datatype R:root C:comm"},
    {"Get_processor_name", "z:name i:resultlen"},
    {"Info_set", "h:info z:key z:value"},
    {"Ineighbor_allgather",
     "p:sendbuf i:sendcount D:sendtype p:recvbuf i:recvcount D:recvtype C:comm ?q:request"},
    {"Raccumulate",
     "p:origin_addr i:origin_count D:origin_datatype i:target_rank l:target_disp i:target_count "
     "D:target_datatype O:op h:win ?q:request"},
    {"Pack_size", "i:incount D:datatype C:comm i:size"},
    {"Intercomm_merge", "C:intercomm i:high C:newintracomm"},
    {"File_get_type_extent", "h:fh D:datatype l:extent"},
    // 340
    {"Get_library_version", "z:version i:resultlen"},
    {"Isend", "p:buf i:count D:datatype P:dest T:tag C:comm q:request"},
    {"T_pvar_reset", "b:session[8] b:handle[8]"},
    {"Start", "?q:request"},
    {"Unpack", "p:inbuf i:insize i:position p:outbuf i:outcount D:datatype C:comm"},
    {"File_get_view", "h:fh l:disp D:etype D:filetype z:datarep"},
    {"T_pvar_session_free", "b:session[8]"},
    {"Iexscan", "p:sendbuf p:recvbuf i:count D:datatype O:op C:comm ?q:request"},
    {"Unpack_external", "b:datarep[1] p:inbuf l:insize l:position p:outbuf i:outcount D:datatype"},
    {"Win_unlock", "i:rank h:win"},
    // 350
    {"Test", "q:request i:flag s:status"},
    {"Request_get_status", "q:request i:flag s:status"},
    {"Waitany", "i:count Q:array_of_requests[count] i:index ?s:status"},
    {"File_read_at_all_end", "h:fh p:buf s:status"},
    {"File_set_view", "h:fh D:etype D:filetype z:datarep h:info"},
    {"Status_set_elements", "s:status D:datatype i:count"},
    {"T_category_get_categories", "i:cat_index i:len I:indices[len]"},
    {"Group_range_incl", "h:group i:n I:ranges[3*n] h:newgroup"},
    {"Get",
     "p:origin_addr i:origin_count D:origin_datatype i:target_rank l:target_disp i:target_count "
     "D:target_datatype h:win"},
    {"Iprobe", "P:source T:tag C:comm i:flag s:status"},
    // 360
    {"Comm_join", "i:fd C:intercomm"},
    {"File_read_shared", "h:fh p:buf i:count D:datatype s:status"},
    {"Win_detach", "h:win p:base"},
    {"Improbe", "P:source T:tag C:comm i:flag h:message s:status"},
    {"Ssend", "p:buf i:count D:datatype P:dest T:tag C:comm"},
    {"Ineighbor_alltoallw",
     "^ p:sendbuf I:sendcounts[cs] L:sdispls[cs] Y:sendtypes[cs] p:recvbuf I:recvcounts[cs] L:rdispls[cs] "
     "Y:recvtypes[cs] C:comm ?q:request"},
    {"Ineighbor_alltoallv",
     "^ p:sendbuf I:sendcounts[cs] I:sdispls[cs] D:sendtype p:recvbuf I:recvcounts[cs] I:rdispls[cs] "
     "D:recvtype C:comm ?q:request"},
    {"Wtick", ""},
    {"T_category_get_cvars", "i:cat_index i:len I:indices[len]"},
    {"Errhandler_free", "e:errhandler"},
    // 370
    {"Topo_test", "C:comm i:status"},
    {"Ireduce", "p:sendbuf p:recvbuf i:count D:datatype O:op R:root C:comm ?q:request"},
    {"File_get_errhandler", "h:file e:errhandler"},
    {"Bsend_init", "p:buf i:count D:datatype P:dest T:tag C:comm ?q:request"},
    {"Add_error_string", "i:errorcode z:string"},
    {"Accumulate",
     "p:origin_addr i:origin_count D:origin_datatype i:target_rank l:target_disp i:target_count "
     "D:target_datatype O:op h:win"},
    {"T_category_get_num", "i:num_cat"},
    {"Comm_set_errhandler", "C:comm e:errhandler"},
    {"Aint_diff", "l:addr1 l:addr2"},
    {"File_write_ordered_begin", "h:fh p:buf i:count D:datatype"},
    // 380
    {"File_write_ordered_end", "h:fh p:buf s:status"},
    {"Graphdims_get", "C:comm i:nnodes i:nedges"},
    {"T_pvar_get_info",
     "i:pvar_index z:name i:name_len i:verbosity i:var_class D:datatype b:enumtype[8] z:desc i:desc_len "
     "i:bind i:readonly i:continuous i:atomic"},
    {"free", "p:ptr"},
};

}  // namespace

std::span<const LayoutText> layout_texts() {
  return kLayouts;
}

}  // namespace whatif::mpi
