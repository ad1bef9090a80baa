// Semantic checks of a program file, run after the flatbuffers structural
// verifier. Everything the executor later reads without checking is checked
// here: every index is in range, every size consistent, every byte range
// inside the file. A program that passes cannot make the executor read or
// write out of bounds.
#include "program_generated.h"
#include "wick/runtime/program.h"
#include "wick/runtime/tensor.h"

namespace wick {
namespace {

// a + b <= limit, without overflow.
bool fits(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

// The flatbuffers verifier checks a vector's length field (4-byte aligned)
// but not its elements: a crafted file can misalign a vector of 8-byte
// values, which the runtime and kernels read in place. The buffer itself is
// 8-byte aligned (Program::load), so the address tells.
bool aligned8(const void* elements) { return reinterpret_cast<uintptr_t>(elements) % 8 == 0; }

Error bad(const char* what, const char* method, uint32_t index) {
  return fail(Error::InvalidProgram, "program file is corrupt: %s (method '%s', item %u)", what, method, index);
}

Error verify_tensor(const fb::Program* program, const fb::Method* method, const fb::Tensor* t, uint32_t id,
                    size_t file_size) {
  const char* name = method->name()->c_str();
  if (t->dtype() < fb::ScalarType::MIN || t->dtype() > fb::ScalarType::MAX) return bad("unknown tensor dtype", name, id);
  if (t->sizes() == nullptr) return bad("tensor without sizes", name, id);
  if (!aligned8(t->sizes()->data())) return bad("tensor sizes are misaligned", name, id);
  uint32_t dim = t->sizes()->size();
  if (dim > static_cast<uint32_t>(kMaxDims)) return bad("tensor rank above the runtime's maximum", name, id);
  if (t->dim_order() != nullptr) {
    if (t->dim_order()->size() != dim) return bad("tensor dim_order length differs from its rank", name, id);
    uint32_t seen = 0;
    for (uint32_t i = 0; i < dim; ++i) {
      uint8_t d = t->dim_order()->Get(i);
      if (d >= dim || (seen & (1u << d))) return bad("tensor dim_order is not a permutation", name, id);
      seen |= 1u << d;
    }
  }
  uint64_t bytes = element_size(static_cast<ScalarType>(t->dtype()));
  for (uint32_t i = 0; i < dim; ++i) {
    int64_t s = t->sizes()->Get(i);
    if (s < 0 || s > (int64_t(1) << 40)) return bad("tensor size out of range", name, id);
    if (s != 0 && bytes > (uint64_t(1) << 48) / static_cast<uint64_t>(s)) return bad("tensor too large", name, id);
    bytes *= static_cast<uint64_t>(s);
  }
  if (t->nbytes() != bytes) return bad("tensor nbytes disagrees with its sizes and dtype", name, id);
  bool is_constant = t->constant_segment() >= 0;
  bool in_arena = t->arena_offset() >= 0;
  if (is_constant && in_arena) return bad("tensor is both a constant and an arena tensor", name, id);
  if (is_constant) {
    const auto* segments = program->segments();
    if (segments == nullptr || static_cast<uint32_t>(t->constant_segment()) >= segments->size()) {
      return bad("constant tensor names a segment that does not exist", name, id);
    }
    const fb::Segment* seg = segments->Get(static_cast<uint32_t>(t->constant_segment()));
    if (!fits(t->constant_offset(), bytes, seg->size())) return bad("constant tensor extends past its segment", name, id);
    if (t->constant_offset() % 16 != 0) return bad("constant tensor is misaligned", name, id);
  }
  if (in_arena) {
    if (!fits(static_cast<uint64_t>(t->arena_offset()), bytes, method->arena_bytes())) {
      return bad("arena tensor extends past the planned arena", name, id);
    }
    if (t->arena_offset() % 16 != 0) return bad("arena tensor is misaligned", name, id);
  }
  (void)file_size;
  return Error::Ok;
}

Error verify_value(const fb::Program* program, const fb::Method* method, uint32_t id, size_t file_size) {
  const char* name = method->name()->c_str();
  const auto* values = method->values();
  const fb::Value* v = values->Get(id);
  if (v == nullptr) return bad("null value", name, id);
  // The flatbuffers verifier accepts a union whose type is set but whose
  // table is absent; nothing downstream may see that.
  if (v->kind_type() != fb::ValueKind::NONE && v->kind() == nullptr) return bad("value kind without data", name, id);
  switch (v->kind_type()) {
    case fb::ValueKind::NONE: return bad("value without a kind", name, id);
    case fb::ValueKind::Tensor: return verify_tensor(program, method, v->kind_as_Tensor(), id, file_size);
    case fb::ValueKind::String:
      if (v->kind_as_String()->value() == nullptr) return bad("string value without text", name, id);
      return Error::Ok;
    case fb::ValueKind::IntList: {
      const fb::IntList* list = v->kind_as_IntList();
      if (list->items() == nullptr) return bad("int list without items", name, id);
      if (!aligned8(list->items()->data())) return bad("int list items are misaligned", name, id);
      if (list->items()->size() > 1024) return bad("int list longer than 1024 items", name, id);
      if (list->refs() != nullptr) {
        if (list->refs()->size() != list->items()->size()) return bad("int list refs length differs", name, id);
        for (uint32_t i = 0; i < list->refs()->size(); ++i) {
          int32_t r = list->refs()->Get(i);
          if (r < -1 || (r >= 0 && static_cast<uint32_t>(r) >= values->size())) {
            return bad("int list refers to a value out of range", name, id);
          }
          if (r >= 0 && (values->Get(static_cast<uint32_t>(r)) == nullptr ||
                         values->Get(static_cast<uint32_t>(r))->kind_type() != fb::ValueKind::Int)) {
            return bad("int list refers to a value that is not an int", name, id);
          }
        }
      }
      return Error::Ok;
    }
    case fb::ValueKind::DoubleList:
      if (v->kind_as_DoubleList()->items() == nullptr) return bad("float list without items", name, id);
      if (!aligned8(v->kind_as_DoubleList()->items()->data())) return bad("float list items are misaligned", name, id);
      return Error::Ok;
    case fb::ValueKind::BoolList:
      if (v->kind_as_BoolList()->items() == nullptr) return bad("bool list without items", name, id);
      return Error::Ok;
    case fb::ValueKind::TensorList: {
      const auto* items = v->kind_as_TensorList()->items();
      if (items == nullptr) return bad("tensor list without items", name, id);
      if (items->size() > 4096) return bad("tensor list longer than 4096 items", name, id);
      for (uint32_t i = 0; i < items->size(); ++i) {
        int32_t r = items->Get(i);
        if (r == -1) continue;
        if (r < 0 || static_cast<uint32_t>(r) >= values->size() ||
            values->Get(static_cast<uint32_t>(r)) == nullptr ||
            values->Get(static_cast<uint32_t>(r))->kind_type() != fb::ValueKind::Tensor) {
          return bad("tensor list item is not a tensor value", name, id);
        }
      }
      return Error::Ok;
    }
    default:
      if (v->kind_type() > fb::ValueKind::MAX) return bad("unknown value kind", name, id);
      return Error::Ok;
  }
}

Error verify_index_list(const flatbuffers::Vector<uint32_t>* list, uint32_t limit, const char* what,
                        const char* method, uint32_t id) {
  if (list == nullptr) return bad(what, method, id);
  for (uint32_t i = 0; i < list->size(); ++i) {
    if (list->Get(i) >= limit) return bad(what, method, id);
  }
  return Error::Ok;
}

Error verify_method(const fb::Program* program, const fb::Method* method, size_t file_size) {
  if (method == nullptr || method->name() == nullptr) {
    return fail(Error::InvalidProgram, "program file is corrupt: a method has no name");
  }
  const char* name = method->name()->c_str();
  if (method->values() == nullptr) return bad("method without values", name, 0);
  if (method->arena_bytes() > (uint64_t(1) << 44)) return bad("planned arena larger than 16 TiB", name, 0);
  uint32_t num_values = method->values()->size();
  for (uint32_t i = 0; i < num_values; ++i) WICK_TRY(verify_value(program, method, i, file_size));
  WICK_TRY(verify_index_list(method->inputs(), num_values, "input index out of range", name, 0));
  WICK_TRY(verify_index_list(method->outputs(), num_values, "output index out of range", name, 0));
  // Every tensor needs storage: a constant, an arena slot, or the caller's
  // buffer (inputs only). Otherwise a kernel would be handed a null pointer.
  for (uint32_t i = 0; i < num_values; ++i) {
    const fb::Value* v = method->values()->Get(i);
    if (v->kind_type() != fb::ValueKind::Tensor) continue;
    const fb::Tensor* t = v->kind_as_Tensor();
    if (t->constant_segment() >= 0 || t->arena_offset() >= 0 || t->nbytes() == 0) continue;
    bool is_input = false;
    for (uint32_t k = 0; k < method->inputs()->size() && !is_input; ++k) is_input = method->inputs()->Get(k) == i;
    if (!is_input) return bad("tensor has no storage (neither constant, arena nor input)", name, i);
  }
  uint32_t num_ops = method->operators() ? method->operators()->size() : 0;
  for (uint32_t i = 0; i < num_ops; ++i) {
    const fb::Operator* op = method->operators()->Get(i);
    if (op == nullptr || op->name() == nullptr) return bad("operator without a name", name, i);
  }
  uint32_t num_delegates = method->delegates() ? method->delegates()->size() : 0;
  uint32_t num_segments = program->segments() ? program->segments()->size() : 0;
  for (uint32_t i = 0; i < num_delegates; ++i) {
    const fb::Delegate* d = method->delegates()->Get(i);
    if (d == nullptr || d->backend() == nullptr) return bad("delegate without a backend name", name, i);
    if (d->segment() >= num_segments) return bad("delegate blob segment out of range", name, i);
    if (d->compile_specs() != nullptr) {
      for (uint32_t k = 0; k < d->compile_specs()->size(); ++k) {
        const fb::CompileSpec* spec = d->compile_specs()->Get(k);
        if (spec == nullptr || spec->key() == nullptr) return bad("compile spec without a key", name, i);
      }
    }
  }
  if (method->instructions() == nullptr) return bad("method without instructions", name, 0);
  uint32_t num_instructions = method->instructions()->size();
  for (uint32_t i = 0; i < num_instructions; ++i) {
    const fb::Instruction* ins = method->instructions()->Get(i);
    if (ins == nullptr || ins->kind() == nullptr) return bad("instruction without data", name, i);
    switch (ins->kind_type()) {
      case fb::InstructionKind::KernelCall: {
        const fb::KernelCall* call = ins->kind_as_KernelCall();
        if (call->op_index() >= num_ops) return bad("kernel call names an operator out of range", name, i);
        WICK_TRY(verify_index_list(call->args(), num_values, "kernel argument index out of range", name, i));
        if (call->args()->size() > 64) return bad("kernel call with more than 64 arguments", name, i);
        break;
      }
      case fb::InstructionKind::DelegateCall: {
        const fb::DelegateCall* call = ins->kind_as_DelegateCall();
        if (call->delegate_index() >= num_delegates) return bad("delegate call index out of range", name, i);
        WICK_TRY(verify_index_list(call->args(), num_values, "delegate argument index out of range", name, i));
        for (uint32_t k = 0; k < call->args()->size(); ++k) {
          if (method->values()->Get(call->args()->Get(k))->kind_type() != fb::ValueKind::Tensor) {
            return bad("delegate argument is not a tensor", name, i);
          }
        }
        break;
      }
      case fb::InstructionKind::JumpFalse: {
        const fb::JumpFalse* jump = ins->kind_as_JumpFalse();
        // The condition is a Bool value or a one-element bool tensor (a
        // torch.cond predicate computed by a kernel).
        const fb::Value* cond = jump->cond() < num_values ? method->values()->Get(jump->cond()) : nullptr;
        bool is_bool_tensor = cond != nullptr && cond->kind_type() == fb::ValueKind::Tensor &&
                              cond->kind_as_Tensor()->dtype() == fb::ScalarType::Bool &&
                              cond->kind_as_Tensor()->nbytes() == 1;
        if (cond == nullptr || (cond->kind_type() != fb::ValueKind::Bool && !is_bool_tensor)) {
          return bad("jump condition is not a bool value or one-element bool tensor", name, i);
        }
        // Schema v1 has forward jumps only, so no program can loop forever.
        if (jump->destination() > num_instructions || jump->destination() <= i) {
          return bad("jump destination out of range (jumps must go forward)", name, i);
        }
        break;
      }
      case fb::InstructionKind::Move: {
        const fb::Move* move = ins->kind_as_Move();
        if (move->from() >= num_values || move->to() >= num_values) return bad("move index out of range", name, i);
        const fb::Value* from = method->values()->Get(move->from());
        const fb::Value* to = method->values()->Get(move->to());
        if (from->kind_type() != to->kind_type()) return bad("move between values of different kinds", name, i);
        if (from->kind_type() == fb::ValueKind::Tensor &&
            from->kind_as_Tensor()->nbytes() > to->kind_as_Tensor()->nbytes()) {
          return bad("move into a smaller tensor", name, i);
        }
        break;
      }
      default: return bad("unknown instruction kind", name, i);
    }
  }
  return Error::Ok;
}

}  // namespace

Error verify_program(const fb::Program* program, size_t file_size) {
  if (program->schema_version() != kSchemaVersion) {
    return fail(Error::InvalidProgram,
                "program schema version %u is not supported by this runtime (it reads version %u); "
                "re-export the model with a matching Wick",
                program->schema_version(), kSchemaVersion);
  }
  uint32_t alignment = program->segment_alignment();
  if (alignment < 16 || alignment > 65536 || (alignment & (alignment - 1)) != 0) {
    return fail(Error::InvalidProgram, "program file is corrupt: segment alignment %u is not a power of two in [16, 65536]",
                alignment);
  }
  uint64_t base = program->segment_base();
  if (base > file_size || base % alignment != 0) {
    return fail(Error::InvalidProgram, "program file is corrupt: segment base %llu lies outside the %zu-byte file",
                static_cast<unsigned long long>(base), file_size);
  }
  if (program->segments() != nullptr) {
    for (uint32_t i = 0; i < program->segments()->size(); ++i) {
      const fb::Segment* seg = program->segments()->Get(i);
      if (seg == nullptr || !fits(seg->offset(), seg->size(), file_size - base) || seg->offset() % alignment != 0) {
        return fail(Error::InvalidProgram,
                    "program file is corrupt or truncated: segment %u lies outside the %zu-byte file", i, file_size);
      }
    }
  }
  if (program->methods() == nullptr || program->methods()->size() == 0) {
    return fail(Error::InvalidProgram, "program file is corrupt: it has no methods");
  }
  for (uint32_t i = 0; i < program->methods()->size(); ++i) {
    WICK_TRY(verify_method(program, program->methods()->Get(i), file_size));
  }
  return Error::Ok;
}

}  // namespace wick
