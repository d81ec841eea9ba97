// Decoding and encoding of Pilgrim call-signature keys, driven by a per-function argument-layout table.
#include "mpi/signature.hpp"

#include "mpi/functions.hpp"

#include <cstring>
#include <limits>

namespace whatif::mpi {

namespace {

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
struct LayoutText {
  std::string_view function;
  std::string_view layout;
};

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

enum class Count : std::uint8_t { one, fixed, arg, comm_size };

struct ArgSpec {
  std::string_view name;
  ArgKind kind = ArgKind::int32;
  std::uint32_t slot = 4;  // bytes per element (0 for strings)
  Count count = Count::one;
  std::int64_t factor = 1;  // element count (fixed) or multiplier (arg, comm_size)
  std::string_view ref;     // the argument whose value gives the count
  bool optional = false;
  bool wide_if_room = false;  // takes 8 bytes when exactly 8 are left (errhandlers)
};

struct Layout {
  bool comm_sized = false;
  std::vector<ArgSpec> args;
  std::string error;  // non-empty when the layout text is malformed (a bug here, reported by every decode)
};

constexpr std::uint32_t kPointerBytes = 32;

bool parse_token(std::string_view token, ArgSpec& spec, std::string& error) {
  if (token.starts_with('?')) {
    spec.optional = true;
    token.remove_prefix(1);
  }
  if (token.size() < 3 || token[1] != ':') {
    error = "bad token '" + std::string(token) + "'";
    return false;
  }
  const char letter = token[0];
  token.remove_prefix(2);
  std::string_view rule;
  if (auto open = token.find('['); open != std::string_view::npos) {
    if (!token.ends_with(']')) {
      error = "unclosed rule in '" + std::string(token) + "'";
      return false;
    }
    rule = token.substr(open + 1, token.size() - open - 2);
    token = token.substr(0, open);
  }
  spec.name = token;
  struct Letter {
    char letter;
    ArgKind kind;
    std::uint32_t slot;
    bool array;
  };
  static constexpr Letter kLetters[] = {
      {'p', ArgKind::pointer, kPointerBytes, false},
      {'i', ArgKind::int32, 4, false},
      {'w', ArgKind::int32, 8, false},
      {'l', ArgKind::int64, 8, false},
      {'P', ArgKind::peer, 4, false},
      {'T', ArgKind::tag, 4, false},
      {'R', ArgKind::root, 4, false},
      {'C', ArgKind::comm, 4, false},
      {'D', ArgKind::datatype, 4, false},
      {'O', ArgKind::op, 4, false},
      {'q', ArgKind::request, 4, false},
      {'h', ArgKind::handle, 4, false},
      {'e', ArgKind::handle, 4, false},
      {'s', ArgKind::status, 8, false},
      {'z', ArgKind::string, 0, false},
      {'I', ArgKind::int32_array, 4, true},
      {'L', ArgKind::int64_array, 8, true},
      {'Y', ArgKind::datatype_array, 4, true},
      {'Q', ArgKind::request_array, 4, true},
      {'S', ArgKind::status_array, 8, true},
      {'b', ArgKind::bytes, 1, true},
  };
  const Letter* found = nullptr;
  for (const Letter& entry : kLetters)
    if (entry.letter == letter) found = &entry;
  if (found == nullptr) {
    error = std::string("unknown kind letter '") + letter + "'";
    return false;
  }
  spec.kind = found->kind;
  spec.slot = found->slot;
  spec.wide_if_room = letter == 'e';
  const bool array = found->array;
  if (array != !rule.empty()) {
    error = "'" + std::string(spec.name) + "': arrays and bytes need a [rule], scalars take none";
    return false;
  }
  if (!array) return true;
  if (auto star = rule.find('*'); star != std::string_view::npos) {
    spec.factor = 0;
    for (char c : rule.substr(0, star)) {
      if (c < '0' || c > '9') {
        error = "bad multiplier in '" + std::string(rule) + "'";
        return false;
      }
      spec.factor = spec.factor * 10 + (c - '0');
    }
    rule.remove_prefix(star + 1);
  }
  if (rule == "cs") {
    spec.count = Count::comm_size;
  } else if (rule.find_first_not_of("0123456789") == std::string_view::npos) {
    spec.count = Count::fixed;
    spec.factor = 0;
    for (char c : rule)
      spec.factor = spec.factor * 10 + (c - '0');
  } else {
    spec.count = Count::arg;
    spec.ref = rule;
  }
  return true;
}

Layout parse_layout(std::string_view text) {
  Layout layout;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view token = text.substr(pos, end - pos);
    pos = end;
    if (token == "^") {
      layout.comm_sized = true;
      continue;
    }
    ArgSpec spec;
    if (!parse_token(token, spec, layout.error)) return layout;
    if (spec.count == Count::arg) {
      bool known = false;
      for (const ArgSpec& earlier : layout.args)
        known = known || earlier.name == spec.ref;
      if (!known) {
        layout.error = "'" + std::string(spec.name) + "' is sized by unknown '" + std::string(spec.ref) + "'";
        return layout;
      }
    }
    layout.args.push_back(spec);
  }
  return layout;
}

const std::vector<Layout>& layouts() {
  static const std::vector<Layout> table = [] {
    std::vector<Layout> result(kFunctionCount);
    std::vector<int> listed(kFunctionCount, 0);
    for (const LayoutText& entry : kLayouts) {
      int id = function_id(entry.function);
      if (id < 0) continue;  // a typo in the table: the function stays without layout, and tests catch it
      result[static_cast<std::size_t>(id)] = parse_layout(entry.layout);
      ++listed[static_cast<std::size_t>(id)];
    }
    for (std::size_t id = 0; id < result.size(); ++id) {
      if (listed[id] == 1) continue;
      result[id].args.clear();
      result[id].error = listed[id] == 0 ? "no argument layout" : "listed twice in the layout table";
    }
    return result;
  }();
  return table;
}

// Little-endian reads from a key whose bounds the caller has checked.
std::int64_t read_int(std::span<const std::uint8_t> key, std::size_t pos, std::size_t bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i)
    value |= std::uint64_t{key[pos + i]} << (8 * i);
  if (bytes < 8 && (value >> (8 * bytes - 1)) != 0) value |= ~std::uint64_t{0} << (8 * bytes);  // sign
  return static_cast<std::int64_t>(value);
}

std::uint64_t read_unsigned(std::span<const std::uint8_t> key, std::size_t pos, std::size_t bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i)
    value |= std::uint64_t{key[pos + i]} << (8 * i);
  return value;
}

void write_int(std::vector<std::uint8_t>& out, std::int64_t value, std::size_t bytes) {
  auto bits = static_cast<std::uint64_t>(value);
  for (std::size_t i = 0; i < bytes; ++i)
    out.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
}

std::int64_t element_count(const ArgSpec& spec, const Signature& sig) {
  switch (spec.count) {
    case Count::one:
      return 1;
    case Count::fixed:
      return spec.factor;
    case Count::comm_size:
      return spec.factor * sig.comm_size;
    case Count::arg: {
      const Arg* ref = sig.find(spec.ref);
      // An optional argument that was not recorded sizes nothing.
      std::int64_t value = ref && !ref->ints.empty() ? ref->ints.front() : 0;
      // Values come from the key; keep the product far from overflow (no real array is near 2^31).
      if (value > std::numeric_limits<std::int32_t>::max() ||
          value < std::numeric_limits<std::int32_t>::min())
        return value;
      return spec.factor * value;
    }
  }
  return 0;
}

// Decodes one argument at `pos`; returns an empty string or why it could not.
std::string decode_arg(std::span<const std::uint8_t> key, std::size_t pos, const ArgSpec& spec,
                       const Signature& sig, Arg& arg) {
  const std::size_t left = key.size() - pos;
  arg.name = spec.name;
  arg.kind = spec.kind;
  arg.offset = static_cast<std::uint32_t>(pos);
  auto short_key = [&](std::uint64_t need) {
    return "key ends inside '" + std::string(spec.name) + "' (needs " + std::to_string(need) + " bytes, " +
           std::to_string(left) + " left)";
  };

  if (spec.kind == ArgKind::string) {
    const std::uint8_t* begin = key.data() + pos;
    const void* nul = left == 0 ? nullptr : std::memchr(begin, 0, left);
    if (nul == nullptr) return "string '" + std::string(spec.name) + "' has no terminating NUL";
    std::size_t length = static_cast<const std::uint8_t*>(nul) - begin;
    arg.text.assign(reinterpret_cast<const char*>(begin), length);
    arg.size = static_cast<std::uint32_t>(length + 1);
    return {};
  }

  std::int64_t count = element_count(spec, sig);
  const std::uint32_t slot = spec.wide_if_room && left == 8 ? 8 : spec.slot;
  if (count < 0) return "negative length " + std::to_string(count) + " for '" + std::string(spec.name) + "'";
  if (static_cast<std::uint64_t>(count) > left / slot)
    return short_key(static_cast<std::uint64_t>(count) * slot);
  const std::size_t bytes = static_cast<std::size_t>(count) * slot;
  arg.size = static_cast<std::uint32_t>(bytes);

  switch (spec.kind) {
    case ArgKind::pointer:
      // {int32 id; pad; uint64 offset; uint64 size; char type; char device; pad}
      arg.ints = {read_int(key, pos, 4), static_cast<std::int64_t>(read_unsigned(key, pos + 8, 8)),
                  static_cast<std::int64_t>(read_unsigned(key, pos + 16, 8)),
                  static_cast<std::int64_t>(key[pos + 24]), static_cast<std::int64_t>(key[pos + 25])};
      break;
    case ArgKind::int64:
      arg.ints = {read_int(key, pos, 8)};
      break;
    case ArgKind::status:
      arg.ints = {read_int(key, pos, 4), read_int(key, pos + 4, 4)};
      break;
    case ArgKind::bytes:
      arg.ints.assign(key.begin() + static_cast<std::ptrdiff_t>(pos),
                      key.begin() + static_cast<std::ptrdiff_t>(pos + bytes));
      break;
    case ArgKind::int64_array:
      arg.ints.reserve(static_cast<std::size_t>(count));
      for (std::size_t i = 0; i < bytes; i += 8)
        arg.ints.push_back(read_int(key, pos + i, 8));
      break;
    default:
      // 4-byte ints, one per element (2 per status; the upper word too for a scalar in an 8-byte slot).
      arg.ints.reserve(bytes / 4);
      for (std::size_t i = 0; i < bytes; i += 4)
        arg.ints.push_back(read_int(key, pos + i, 4));
      break;
  }
  return {};
}

// Pilgrim's built-in lists (pmodels/pilgrim include/pilgrim_consts.h: builtin_mpi_datatypes[] and
// builtin_mpi_ops[]): the object at index k is recorded as -(k+1). Sizes are MPI_Type_size on x86-64
// Linux (the data bytes, not the extent: MPI_DOUBLE_INT is 12, MPI_LONG_DOUBLE 16 as sizeof(long double)).
// MPI-3 builds define MPI_LB/MPI_UB as MPI_DATATYPE_NULL, so those two codes never appear in new traces.
struct BuiltinType {
  std::string_view name;
  std::int64_t size;
};

constexpr BuiltinType kBuiltinTypes[] = {
    {"MPI_DATATYPE_NULL", 0},
    {"MPI_CHAR", 1},
    {"MPI_UNSIGNED_CHAR", 1},
    {"MPI_SHORT", 2},
    {"MPI_UNSIGNED_SHORT", 2},
    {"MPI_INT", 4},
    {"MPI_UNSIGNED", 4},
    {"MPI_LONG", 8},
    {"MPI_UNSIGNED_LONG", 8},
    {"MPI_LONG_LONG", 8},
    {"MPI_FLOAT", 4},
    {"MPI_DOUBLE", 8},
    {"MPI_LONG_DOUBLE", 16},
    {"MPI_BYTE", 1},
    {"MPI_WCHAR", 4},
    {"MPI_PACKED", 1},
    {"MPI_LB", 0},
    {"MPI_UB", 0},
    {"MPI_C_COMPLEX", 8},
    {"MPI_C_DOUBLE_COMPLEX", 16},
    {"MPI_C_LONG_DOUBLE_COMPLEX", 32},
    {"MPI_2INT", 8},
    {"MPI_C_BOOL", 1},
    {"MPI_SIGNED_CHAR", 1},
    {"MPI_CHARACTER", 1},
    {"MPI_INTEGER", 4},
    {"MPI_REAL", 4},
    {"MPI_LOGICAL", 4},
    {"MPI_COMPLEX", 8},
    {"MPI_2INTEGER", 8},
    {"MPI_2REAL", 8},
    {"MPI_DOUBLE_COMPLEX", 16},
    {"MPI_REAL4", 4},
    {"MPI_COMPLEX8", 8},
    {"MPI_REAL8", 8},
    {"MPI_COMPLEX16", 16},
    {"MPI_REAL16", 16},
    {"MPI_COMPLEX32", 32},
    {"MPI_INTEGER1", 1},
    {"MPI_INTEGER2", 2},
    {"MPI_INTEGER4", 4},
    {"MPI_INTEGER8", 8},
    {"MPI_INT8_T", 1},
    {"MPI_INT16_T", 2},
    {"MPI_INT32_T", 4},
    {"MPI_INT64_T", 8},
    {"MPI_UINT8_T", 1},
    {"MPI_UINT16_T", 2},
    {"MPI_UINT32_T", 4},
    {"MPI_UINT64_T", 8},
    {"MPI_AINT", 8},
    {"MPI_FLOAT_INT", 8},
    {"MPI_DOUBLE_INT", 12},
    {"MPI_LONG_INT", 12},
    {"MPI_SHORT_INT", 6},
    {"MPI_LONG_DOUBLE_INT", 20},
    {"MPI_DOUBLE_PRECISION", 8},
};

constexpr std::string_view kBuiltinOps[] = {
    "MPI_OP_NULL", "MPI_MAX", "MPI_MIN",  "MPI_SUM",  "MPI_PROD",   "MPI_LAND",   "MPI_BAND",
    "MPI_LOR",     "MPI_BOR", "MPI_LXOR", "MPI_BXOR", "MPI_MINLOC", "MPI_MAXLOC", "MPI_REPLACE",
};

const BuiltinType* builtin_type(std::int64_t code) {
  constexpr auto n = static_cast<std::int64_t>(std::size(kBuiltinTypes));
  if (code > -1 || code < -n) return nullptr;
  return &kBuiltinTypes[static_cast<std::size_t>(-code - 1)];
}

std::string op_name(std::int64_t code) {
  constexpr auto n = static_cast<std::int64_t>(std::size(kBuiltinOps));
  if (code <= -1 && code >= -n) return std::string(kBuiltinOps[static_cast<std::size_t>(-code - 1)]);
  if (code == kInvalidHandle) return "INVALID";
  if (code >= 0) return "op#" + std::to_string(code);
  return "op(" + std::to_string(code) + ")";
}

std::string comm_name(std::int64_t code) {
  if (code == kCommWorld) return "WORLD";
  if (code == kCommSelf) return "SELF";
  if (code == kCommNull) return "NULL";
  if (code == kInvalidHandle) return "INVALID";
  if (code >= 0) return "comm#" + std::to_string(code);
  return "comm(" + std::to_string(code) + ")";
}

std::string request_name(std::int64_t code) {
  if (code == kRequestNull) return "REQUEST_NULL";
  if (code == kUntrackedRequest) return "UNTRACKED";
  return std::to_string(code);
}

std::string peer_name(std::int64_t code, int my_rank) {
  if (code == kAnySource) return "ANY_SOURCE";
  if (code == kProcNull) return "PROC_NULL";
  return std::to_string(my_rank - code);
}

std::string tag_name(std::int64_t code) {
  return code == kAnyTag ? "ANY_TAG" : std::to_string(code);
}

std::string handle_name(std::int64_t code) {
  return code == kInvalidHandle ? "INVALID" : std::to_string(code);
}

template <class Name>
std::string join(const std::vector<std::int64_t>& values, Name name) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += name(values[i]);
  }
  return out + "]";
}

}  // namespace

std::string_view to_string(ArgKind kind) {
  switch (kind) {
    case ArgKind::pointer:
      return "pointer";
    case ArgKind::int32:
      return "int32";
    case ArgKind::int64:
      return "int64";
    case ArgKind::peer:
      return "peer";
    case ArgKind::tag:
      return "tag";
    case ArgKind::root:
      return "root";
    case ArgKind::comm:
      return "comm";
    case ArgKind::datatype:
      return "datatype";
    case ArgKind::op:
      return "op";
    case ArgKind::request:
      return "request";
    case ArgKind::status:
      return "status";
    case ArgKind::handle:
      return "handle";
    case ArgKind::string:
      return "string";
    case ArgKind::int32_array:
      return "int32_array";
    case ArgKind::int64_array:
      return "int64_array";
    case ArgKind::datatype_array:
      return "datatype_array";
    case ArgKind::request_array:
      return "request_array";
    case ArgKind::status_array:
      return "status_array";
    case ArgKind::bytes:
      return "bytes";
  }
  return "unknown";
}

const Arg* Signature::find(std::string_view name) const {
  for (const Arg& arg : args)
    if (arg.name == name) return &arg;
  return nullptr;
}

std::int64_t Signature::value(std::string_view name, std::int64_t fallback) const {
  const Arg* arg = find(name);
  return arg && !arg->ints.empty() ? arg->ints.front() : fallback;
}

Signature decode_signature(std::span<const std::uint8_t> key, bool has_thread_id) {
  Signature sig;
  if (key.size() < 2) {
    sig.problem = "key of " + std::to_string(key.size()) + " bytes has no function id";
    return sig;
  }
  sig.function = static_cast<int>(read_int(key, 0, 2));
  const std::string_view name = function_name(sig.function);
  if (name.empty()) {
    sig.problem = "unknown function id " + std::to_string(sig.function);
    return sig;
  }
  auto fail = [&](const std::string& why) { sig.problem = std::string(name) + ": " + why; };

  std::size_t pos = 2;
  if (has_thread_id) {
    if (key.size() < pos + 4) {
      fail("key ends inside the thread id");
      return sig;
    }
    sig.thread = static_cast<int>(read_int(key, pos, 4));
    pos += 4;
  }
  const Layout& layout = layouts()[static_cast<std::size_t>(sig.function)];
  if (!layout.error.empty()) {
    fail("internal layout error: " + layout.error);
    return sig;
  }
  if (layout.comm_sized) {
    if (key.size() < pos + 4) {
      fail("key ends inside the communicator size");
      return sig;
    }
    sig.comm_size = static_cast<int>(read_int(key, pos, 4));
    pos += 4;
    if (sig.comm_size < 0) {
      fail("negative communicator size " + std::to_string(sig.comm_size));
      return sig;
    }
  }
  sig.args.reserve(layout.args.size());
  for (const ArgSpec& spec : layout.args) {
    if (spec.optional && pos == key.size()) continue;
    Arg arg;
    if (std::string why = decode_arg(key, pos, spec, sig, arg); !why.empty()) {
      fail(why);
      return sig;
    }
    pos += arg.size;
    sig.args.push_back(std::move(arg));
  }
  if (pos != key.size()) {
    std::string after = "the header";
    if (!sig.args.empty()) {
      after.assign(1, '\'');
      after.append(sig.args.back().name).push_back('\'');
    }
    fail(std::to_string(key.size() - pos) + " bytes left over after " + after);
  }
  return sig;
}

std::vector<std::uint8_t> encode_signature(const Signature& signature, bool has_thread_id) {
  std::vector<std::uint8_t> out;
  write_int(out, signature.function, 2);
  if (has_thread_id) write_int(out, signature.thread, 4);
  auto at = [](const std::vector<std::int64_t>& ints, std::size_t i, std::int64_t fallback = 0) {
    return i < ints.size() ? ints[i] : fallback;
  };
  // Whether a scalar sits in an 8-byte slot (Testsome's outcount) follows the layout, so hand-built
  // signatures need not set Arg::size; the size of a decoded argument says the same.
  const Layout* layout = signature.function >= 0 && signature.function < kFunctionCount
                             ? &layouts()[static_cast<std::size_t>(signature.function)]
                             : nullptr;
  if (layout != nullptr && layout->comm_sized) write_int(out, signature.comm_size, 4);
  auto wide_slot = [&](const Arg& arg) {
    if (arg.size == 8) return true;
    if (layout == nullptr) return false;
    for (const ArgSpec& spec : layout->args)
      if (spec.name == arg.name) return spec.slot == 8 || (spec.wide_if_room && arg.ints.size() > 1);
    return false;
  };
  for (const Arg& arg : signature.args) {
    switch (arg.kind) {
      case ArgKind::pointer: {
        write_int(out, at(arg.ints, 0), 4);
        write_int(out, 0, 4);
        write_int(out, at(arg.ints, 1), 8);
        write_int(out, at(arg.ints, 2), 8);
        write_int(out, at(arg.ints, 3), 1);
        write_int(out, at(arg.ints, 4, 0xFF), 1);
        write_int(out, 0, 6);
        break;
      }
      case ArgKind::int64:
        write_int(out, at(arg.ints, 0), 8);
        break;
      case ArgKind::status:
        write_int(out, at(arg.ints, 0), 4);
        write_int(out, at(arg.ints, 1), 4);
        break;
      case ArgKind::string:
        out.insert(out.end(), arg.text.begin(), arg.text.end());
        out.push_back(0);
        break;
      case ArgKind::bytes:
        if (arg.ints.empty()) {
          out.insert(out.end(), arg.size, 0);
        } else {
          for (std::int64_t byte : arg.ints)
            write_int(out, byte, 1);
        }
        break;
      case ArgKind::int64_array:
        for (std::int64_t value : arg.ints)
          write_int(out, value, 8);
        break;
      case ArgKind::int32_array:
      case ArgKind::datatype_array:
      case ArgKind::request_array:
      case ArgKind::status_array:
        for (std::int64_t value : arg.ints)
          write_int(out, value, 4);
        break;
      default:
        // 4-byte scalars; Testsome's outcount and Open MPI's errhandlers fill 8 bytes, the upper word in
        // ints[1].
        write_int(out, at(arg.ints, 0), 4);
        if (wide_slot(arg)) write_int(out, at(arg.ints, 1), 4);
        break;
    }
  }
  return out;
}

std::string format_arguments(const Signature& signature, int my_rank) {
  std::string out;
  for (const Arg& arg : signature.args) {
    if (!out.empty()) out += ' ';
    const std::string name(arg.name);
    const std::int64_t first = arg.ints.empty() ? 0 : arg.ints.front();
    switch (arg.kind) {
      case ArgKind::pointer:
        out += name;
        continue;  // buffer ids say nothing useful in a text dump
      case ArgKind::peer:
        out += name + "=" + peer_name(first, my_rank);
        break;
      case ArgKind::tag:
        out += name + "=" + tag_name(first);
        break;
      case ArgKind::comm:
        out += name + "=" + comm_name(first);
        break;
      case ArgKind::datatype:
        out += name + "=" + datatype_name(first);
        break;
      case ArgKind::op:
        out += name + "=" + op_name(first);
        break;
      case ArgKind::request:
        out += name + "=" + request_name(first);
        break;
      case ArgKind::handle:
        out += name + "=" + handle_name(first);
        break;
      case ArgKind::status:
        out += name + "={" + std::to_string(first) + "," +
               std::to_string(arg.ints.size() > 1 ? arg.ints[1] : 0) + "}";
        break;
      case ArgKind::string:
        out += name + "=\"" + arg.text + "\"";
        break;
      case ArgKind::bytes:
        out += name + "=<" + std::to_string(arg.size) + "B>";
        break;
      case ArgKind::int32_array:
      case ArgKind::int64_array:
        out += name + "=" + join(arg.ints, [](std::int64_t v) { return std::to_string(v); });
        break;
      case ArgKind::datatype_array:
        out += name + "=" + join(arg.ints, datatype_name);
        break;
      case ArgKind::request_array:
        out += name + "=" + join(arg.ints, request_name);
        break;
      case ArgKind::status_array: {
        out += name + "=[";
        for (std::size_t i = 0; i + 1 < arg.ints.size(); i += 2) {
          if (i) out += ',';
          out += "{" + std::to_string(arg.ints[i]) + "," + std::to_string(arg.ints[i + 1]) + "}";
        }
        out += "]";
        break;
      }
      default:
        out += name + "=" + std::to_string(first);
        break;  // int32, int64, root
    }
  }
  return out;
}

std::string datatype_name(std::int64_t code) {
  if (const BuiltinType* type = builtin_type(code)) return std::string(type->name);
  if (code == kInvalidHandle) return "INVALID";
  if (code >= 0) return "type#" + std::to_string(code);
  return "datatype(" + std::to_string(code) + ")";
}

std::int64_t builtin_datatype_size(std::int64_t code) {
  const BuiltinType* type = builtin_type(code);
  return type ? type->size : 0;
}

}  // namespace whatif::mpi
