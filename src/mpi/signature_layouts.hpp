// The argument-layout table signature.cpp decodes keys with (its syntax is described in
// signature_layouts.cpp); not part of the API.
#pragma once

#include <span>
#include <string_view>

namespace whatif::mpi {

struct LayoutText {
  std::string_view function;  // without "MPI_"
  std::string_view layout;
};

std::span<const LayoutText> layout_texts();

}  // namespace whatif::mpi
