#include "segment/vector_view.h"

#include <cstring>

namespace quiver::segment {

float HalfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f;
  uint32_t mantissa = half & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: renormalize
      int shift = 0;
      while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        ++shift;
      }
      mantissa &= 0x3ff;
      bits = sign | static_cast<uint32_t>(127 - 15 - shift + 1) << 23 | mantissa << 13;
    }
  } else if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | mantissa << 13;  // inf / nan
  } else {
    bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
  }
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

float BFloat16ToFloat(uint16_t value) {
  uint32_t bits = static_cast<uint32_t>(value) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

namespace {

void Widen(const std::string& bytes, int64_t count, bool bfloat, std::vector<float>* out) {
  out->resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    uint16_t value;
    std::memcpy(&value, bytes.data() + 2 * i, sizeof(value));
    (*out)[static_cast<size_t>(i)] = bfloat ? BFloat16ToFloat(value) : HalfToFloat(value);
  }
}

}  // namespace

StatusOr<VectorView> ViewVectors(const spb::FieldData& column, int64_t dim, int64_t rows) {
  VectorView view;
  view.data.type = column.type();
  view.data.dim = dim;
  view.data.rows = rows;
  const auto& vectors = column.vectors();
  switch (column.type()) {
    case spb::FloatVector: view.data.floats = vectors.float_vector().data().data(); break;
    case spb::Float16Vector:
    case spb::BFloat16Vector: {
      const std::string& bytes =
          column.type() == spb::Float16Vector ? vectors.float16_vector() : vectors.bfloat16_vector();
      Widen(bytes, rows * dim, column.type() == spb::BFloat16Vector, &view.widened);
      view.data.floats = view.widened.data();
      view.data.type = spb::FloatVector;
      break;
    }
    case spb::BinaryVector:
      view.data.bytes = reinterpret_cast<const uint8_t*>(vectors.binary_vector().data());
      break;
    case spb::SparseFloatVector:
      // Indexes take sparse rows as one contiguous array of strings; protobuf keeps pointers.
      view.sparse_storage.assign(vectors.sparse_float_vector().contents().begin(),
                                 vectors.sparse_float_vector().contents().begin() + rows);
      view.data.sparse_rows = view.sparse_storage.data();
      break;
    default: return InvalidParameter("field " + column.field_name() + " is not a vector field");
  }
  return view;
}

StatusOr<VectorView> ViewQueries(spb::DataType type, int64_t dim,
                                 const google::protobuf::RepeatedPtrField<std::string>& values) {
  VectorView view;
  view.data.type = type;
  view.data.dim = dim;
  view.data.rows = values.size();
  const int64_t nq = values.size();
  switch (type) {
    case spb::FloatVector:
    case spb::Float16Vector:
    case spb::BFloat16Vector: {
      const size_t width = type == spb::FloatVector ? 4 : 2;
      view.widened.resize(static_cast<size_t>(nq * dim));
      for (int64_t q = 0; q < nq; ++q) {
        const std::string& value = values.Get(static_cast<int>(q));
        if (value.size() != static_cast<size_t>(dim) * width) {
          return InvalidParameter("the dim (" + std::to_string(value.size() / width) +
                                  ") of the search vector is not equal to the field dim (" + std::to_string(dim) +
                                  ")");
        }
        float* out = view.widened.data() + q * dim;
        if (type == spb::FloatVector) {
          std::memcpy(out, value.data(), value.size());
        } else {
          std::vector<float> row;
          Widen(value, dim, type == spb::BFloat16Vector, &row);
          std::memcpy(out, row.data(), row.size() * sizeof(float));
        }
      }
      view.data.type = spb::FloatVector;
      view.data.floats = view.widened.data();
      break;
    }
    case spb::BinaryVector: {
      view.sparse_storage.resize(1);
      std::string& packed = view.sparse_storage[0];
      for (const auto& value : values) {
        if (static_cast<int64_t>(value.size()) * 8 != dim) {
          return InvalidParameter("the dim (" + std::to_string(value.size() * 8) +
                                  ") of the search vector is not equal to the field dim (" + std::to_string(dim) +
                                  ")");
        }
        packed += value;
      }
      view.data.bytes = reinterpret_cast<const uint8_t*>(packed.data());
      break;
    }
    case spb::SparseFloatVector:
      view.sparse_storage.assign(values.begin(), values.end());
      view.data.sparse_rows = view.sparse_storage.data();
      break;
    default: return InvalidParameter("unsupported search vector type " + spb::DataType_Name(type));
  }
  return view;
}

}  // namespace quiver::segment
