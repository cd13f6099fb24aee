# bridges/dds/test: the DDS bridge's tests, included by bridges/dds/CMakeLists.txt
# (not a subdirectory: the sources idlc generates are that directory's).
#  - bridge_dds_map: the mapping (dds_map.c) value by value, no domain;
#  - bridge_dds: end to end in a network namespace with only loopback
#    (test_dds_bridge.sh): ipcn_peer (libipcnet only) <-> the bridge <->
#    ros_peer (Cyclone DDS only, from the same ROS 2 IDL: a ROS 2 node's
#    stand-in).  Skipped (77, with the reason) when no network namespace
#    can be made (unshare --net as root, unshare -rn otherwise).

add_executable(test_dds_map ${CMAKE_CURRENT_LIST_DIR}/test_dds_map.c)
target_link_libraries(test_dds_map PRIVATE ipcnet_dds_map)
add_test(NAME bridge_dds_map COMMAND test_dds_map)
set_tests_properties(bridge_dds_map PROPERTIES TIMEOUT 30)

add_executable(dds_ros_peer ${CMAKE_CURRENT_LIST_DIR}/ros_peer.c)
target_link_libraries(dds_ros_peer PRIVATE ipcnet_dds_types CycloneDDS::ddsc)
add_executable(dds_ipcn_peer ${CMAKE_CURRENT_LIST_DIR}/ipcn_peer.c)
target_link_libraries(dds_ipcn_peer PRIVATE ipcnet Threads::Threads)

add_test(NAME bridge_dds
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_dds_bridge.sh
                 $<TARGET_FILE:ipcnet_bridge_dds> $<TARGET_FILE:dds_ros_peer>
                 $<TARGET_FILE:dds_ipcn_peer>)
set_tests_properties(bridge_dds PROPERTIES TIMEOUT 90 SKIP_RETURN_CODE 77)

# `ipcnet bridge dds` finds and runs the bridge program.
add_test(NAME bridge_dds_cli COMMAND ipcnet_cli bridge dds --list-types)
set_tests_properties(bridge_dds_cli PROPERTIES TIMEOUT 30
  PASS_REGULAR_EXPRESSION "sensor_msgs/msg/Image +sensor_msgs::msg::dds_::Image_")

# The benchmark runs (a few round trips; the figures are not checked).
add_test(NAME bridge_dds_bench
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/../bench_dds.sh
                 $<TARGET_FILE_DIR:ipcnet_bridge_dds> --count 20 --size 64)
set_tests_properties(bridge_dds_bench PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77)

# The fuzz build: the mapping's harness, run by tests/fuzz/run.sh with the
# others (build-fuzz/bin/fuzz_dds_map; crashes kept in
# tests/fuzz/crashes/dds_map/).
if(IPCNET_FUZZ)
  set(DDS_FUZZ_SAN -fsanitize=address,undefined -fno-sanitize-recover=all
                   -fno-omit-frame-pointer)
  # its own copy of the mapping, instrumented (the bridge's is not)
  add_executable(fuzz_dds_map ${CMAKE_CURRENT_LIST_DIR}/fuzz_dds_map.c
                 ${CMAKE_CURRENT_SOURCE_DIR}/dds_map.c
                 ${CMAKE_CURRENT_SOURCE_DIR}/dds_map_sensor.c)
  target_compile_options(fuzz_dds_map PRIVATE -fsanitize=fuzzer ${DDS_FUZZ_SAN})
  target_link_options(fuzz_dds_map PRIVATE -fsanitize=fuzzer ${DDS_FUZZ_SAN})
  target_include_directories(fuzz_dds_map PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(fuzz_dds_map PRIVATE ipcnet ipcnet_dds_types CycloneDDS::ddsc)
  # Under ctest: one pass over the seeds and the saved crashes.
  add_test(NAME fuzz_dds_map_replay
    COMMAND fuzz_dds_map -runs=0 ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/dds_map
            ${PROJECT_SOURCE_DIR}/tests/fuzz/crashes/dds_map)
  set_tests_properties(fuzz_dds_map_replay PROPERTIES LABELS fuzz TIMEOUT 120)
endif()
