#include "wick/runtime/method.h"

#include <cstdio>
#include <cstring>
#include <new>

#include "program_generated.h"
#include "wick/runtime/backend_registry.h"
#include "wick/runtime/event_tracer.h"

namespace wick {

// One executable instruction, resolved at load time.
struct Step {
  fb::InstructionKind kind;
  const char* op_name;          // operator or backend name, for messages
  const Kernel* kernel;         // KernelCall
  Value** args;                 // KernelCall / DelegateCall
  const uint32_t* arg_ids;
  int num_args;
  bool has_symbolic_args;
  const WickBackend2* backend;  // DelegateCall
  void* handle;
  WickTensorArg* tensor_args;
  const uint8_t* blob;          // DelegateCall, until init
  size_t blob_size;
  WickCompileSpec* specs;       // program specs (reserved keys removed) with load-time options
  size_t num_specs;
  const char* compatibility;    // what the AOT half wrote for the blob ("" = nothing)
  uint32_t a, b;                // JumpFalse: cond, destination; Move: from, to
};

namespace {

constexpr size_t kScratchAlignment = 64;
// Compile-spec keys for the host, never handed to a backend's init.
constexpr char kReservedSpecPrefix[] = "wick.";

// Re-records the current failure message with a prefix naming where it
// happened. Copies first: fail() writes the same thread-local buffer.
Error with_context(Error error, const char* method, uint32_t pc, const char* what) {
  char message[768];
  std::snprintf(message, sizeof(message), "%s", last_error_message());
  return fail(error, "method '%s', instruction %u (%s): %s", method, pc, what, message);
}

}  // namespace

Method::~Method() { release_delegates(); }

void Method::release_delegates() {
  if (steps_ == nullptr) return;
  for (size_t i = 0; i < num_steps_; ++i) {
    Step& s = steps_[i];
    if (s.kind == fb::InstructionKind::DelegateCall && s.handle != nullptr && s.backend->destroy != nullptr) {
      s.backend->destroy(s.backend->self, s.handle);
      s.handle = nullptr;
    }
  }
}

namespace {

// Load-time options of `backend` replace every program spec of the same key,
// or are appended; `specs` has room for all of them. Returns the new count.
size_t apply_backend_options(const char* backend, const BackendOption* options, size_t num_options,
                             WickCompileSpec* specs, size_t num_specs) {
  for (size_t i = 0; i < num_options; ++i) {
    const BackendOption& o = options[i];
    if (std::strcmp(o.backend, backend) != 0) continue;
    const WickCompileSpec option{o.key, o.value, o.value_size};
    bool replaced = false;
    for (size_t k = 0; k < num_specs; ++k) {
      if (std::strcmp(specs[k].key, o.key) == 0) {
        specs[k] = option;
        replaced = true;
      }
    }
    if (!replaced) specs[num_specs++] = option;
  }
  return num_specs;
}

}  // namespace

Error Method::arena_bytes(const Program& program, size_t index, size_t* bytes) {
  if (index >= program.num_methods()) return fail(Error::NotFound, "method index %zu out of range", index);
  *bytes = static_cast<size_t>(program.method(index)->arena_bytes());
  return Error::Ok;
}

Error Method::load(const Program& program, size_t index, MemoryAllocator& allocator, void* arena, size_t arena_size,
                   const BackendOption* options, size_t num_options) {
  if (loaded_) return fail(Error::InvalidArgument, "method is already loaded");
  if (index >= program.num_methods()) return fail(Error::NotFound, "method index %zu out of range", index);
  const fb::Method* method = program.method(index);
  name_ = method->name()->c_str();
  if (arena_size < method->arena_bytes() || (arena == nullptr && method->arena_bytes() > 0)) {
    return fail(Error::OutOfMemory, "method '%s' needs a %llu-byte arena; %zu bytes were given", name_,
                static_cast<unsigned long long>(method->arena_bytes()), arena_size);
  }
  WICK_TRY(load_values(program, method, allocator, arena, arena_size));
  Error err = load_steps(program, method, allocator, options, num_options);
  if (err != Error::Ok) {
    release_delegates();  // those initialized before the failure
    steps_ = nullptr;
    return err;
  }
  loaded_ = true;
  return Error::Ok;
}

Error Method::load_values(const Program& program, const void* method_ptr, MemoryAllocator& allocator, void* arena,
                          size_t arena_size) {
  (void)arena_size;
  const fb::Method* method = static_cast<const fb::Method*>(method_ptr);
  const auto* fvalues = method->values();
  num_values_ = fvalues->size();
  values_ = allocator.allocate_array<Value>(num_values_);
  symbolic_refs_ = allocator.allocate_array<const int32_t*>(num_values_);
  if (values_ == nullptr || symbolic_refs_ == nullptr) {
    return fail(Error::OutOfMemory, "allocator too small for the values of method '%s'", name_);
  }
  // Tensor lists point at Tensor objects, so create all tensors first.
  for (uint32_t i = 0; i < num_values_; ++i) {
    Value& v = values_[i];
    new (&v) Value();
    symbolic_refs_[i] = nullptr;
    const fb::Value* fv = fvalues->Get(i);
    switch (fv->kind_type()) {
      case fb::ValueKind::Tensor: {
        const fb::Tensor* ft = fv->kind_as_Tensor();
        Tensor* t = allocator.allocate_array<Tensor>(1);
        if (t == nullptr) return fail(Error::OutOfMemory, "allocator too small for tensors of method '%s'", name_);
        new (t) Tensor();
        t->dtype = static_cast<ScalarType>(ft->dtype());
        t->dim = static_cast<int32_t>(ft->sizes()->size());
        for (int d = 0; d < t->dim; ++d) {
          t->sizes[d] = ft->sizes()->Get(static_cast<uint32_t>(d));
          t->dim_order[d] = ft->dim_order() ? ft->dim_order()->Get(static_cast<uint32_t>(d)) : static_cast<uint8_t>(d);
        }
        t->capacity = static_cast<size_t>(ft->nbytes());
        t->dynamic = ft->dynamic();
        if (ft->constant_segment() >= 0) {
          size_t seg_size = 0;
          const uint8_t* seg = program.segment(static_cast<uint32_t>(ft->constant_segment()), &seg_size);
          // Constants are read-only; kernels never write their inputs.
          t->data = const_cast<uint8_t*>(seg + ft->constant_offset());
        } else if (ft->arena_offset() >= 0) {
          t->data = static_cast<uint8_t*>(arena) + ft->arena_offset();
        }
        v.tag = ValueTag::Tensor;
        v.tensor = t;
        break;
      }
      case fb::ValueKind::Int: v.tag = ValueTag::Int; v.i = fv->kind_as_Int()->value(); break;
      case fb::ValueKind::Double: v.tag = ValueTag::Double; v.d = fv->kind_as_Double()->value(); break;
      case fb::ValueKind::Bool: v.tag = ValueTag::Bool; v.b = fv->kind_as_Bool()->value(); break;
      case fb::ValueKind::String:
        v.tag = ValueTag::String;
        v.str.data = fv->kind_as_String()->value()->c_str();
        v.str.size = fv->kind_as_String()->value()->size();
        break;
      case fb::ValueKind::Null: v.tag = ValueTag::Null; break;
      case fb::ValueKind::IntList: {
        const fb::IntList* list = fv->kind_as_IntList();
        int32_t n = static_cast<int32_t>(list->items()->size());
        int64_t* items = allocator.allocate_array<int64_t>(n > 0 ? n : 1);
        if (items == nullptr) return fail(Error::OutOfMemory, "allocator too small for lists of method '%s'", name_);
        for (int32_t k = 0; k < n; ++k) items[k] = list->items()->Get(static_cast<uint32_t>(k));
        v.tag = ValueTag::IntList;
        v.ints.data = items;
        v.ints.size = n;
        if (list->refs() != nullptr) symbolic_refs_[i] = list->refs()->data();
        break;
      }
      case fb::ValueKind::DoubleList:
        v.tag = ValueTag::DoubleList;
        v.doubles.data = fv->kind_as_DoubleList()->items()->data();
        v.doubles.size = static_cast<int32_t>(fv->kind_as_DoubleList()->items()->size());
        break;
      case fb::ValueKind::BoolList:
        v.tag = ValueTag::BoolList;
        v.bools.data = reinterpret_cast<const bool*>(fv->kind_as_BoolList()->items()->data());
        v.bools.size = static_cast<int32_t>(fv->kind_as_BoolList()->items()->size());
        break;
      default: break;  // TensorList: second pass
    }
  }
  for (uint32_t i = 0; i < num_values_; ++i) {
    const fb::Value* fv = fvalues->Get(i);
    if (fv->kind_type() != fb::ValueKind::TensorList) continue;
    const auto* items = fv->kind_as_TensorList()->items();
    Tensor** list = allocator.allocate_array<Tensor*>(items->size() > 0 ? items->size() : 1);
    if (list == nullptr) return fail(Error::OutOfMemory, "allocator too small for lists of method '%s'", name_);
    for (uint32_t k = 0; k < items->size(); ++k) {
      int32_t ref = items->Get(k);
      list[k] = ref < 0 ? nullptr : values_[ref].tensor;
    }
    values_[i].tag = ValueTag::TensorList;
    values_[i].tensors.data = list;
    values_[i].tensors.size = static_cast<int32_t>(items->size());
  }
  num_inputs_ = method->inputs()->size();
  num_outputs_ = method->outputs()->size();
  input_ids_ = method->inputs()->data();
  output_ids_ = method->outputs()->data();
  input_bound_ = allocator.allocate_array<bool>(num_inputs_ > 0 ? num_inputs_ : 1);
  if (input_bound_ == nullptr) return fail(Error::OutOfMemory, "allocator too small for method '%s'", name_);
  for (size_t k = 0; k < num_inputs_; ++k) {
    const Value& v = values_[input_ids_[k]];
    // A tensor input with planned storage (none today) or a scalar input
    // baked into the program counts as bound.
    input_bound_[k] = !(v.is_tensor() && v.tensor->data == nullptr);
  }
  return Error::Ok;
}

Error Method::load_steps(const Program& program, const void* method_ptr, MemoryAllocator& allocator,
                         const BackendOption* options, size_t num_options) {
  const fb::Method* method = static_cast<const fb::Method*>(method_ptr);
  const auto* instructions = method->instructions();
  num_steps_ = instructions->size();
  steps_ = allocator.allocate_array<Step>(num_steps_ > 0 ? num_steps_ : 1);
  if (steps_ == nullptr) return fail(Error::OutOfMemory, "allocator too small for instructions of method '%s'", name_);
  std::memset(static_cast<void*>(steps_), 0, sizeof(Step) * num_steps_);
  size_t scratch_needed = 0;
  for (uint32_t pc = 0; pc < num_steps_; ++pc) {
    const fb::Instruction* ins = instructions->Get(pc);
    Step& s = steps_[pc];
    s.kind = ins->kind_type();
    const flatbuffers::Vector<uint32_t>* arg_ids = nullptr;
    if (s.kind == fb::InstructionKind::KernelCall) {
      arg_ids = ins->kind_as_KernelCall()->args();
    } else if (s.kind == fb::InstructionKind::DelegateCall) {
      arg_ids = ins->kind_as_DelegateCall()->args();
    }
    if (arg_ids != nullptr) {
      s.num_args = static_cast<int>(arg_ids->size());
      s.arg_ids = arg_ids->data();
      s.args = allocator.allocate_array<Value*>(s.num_args > 0 ? s.num_args : 1);
      if (s.args == nullptr) return fail(Error::OutOfMemory, "allocator too small for arguments of method '%s'", name_);
      for (int k = 0; k < s.num_args; ++k) {
        s.args[k] = &values_[s.arg_ids[k]];
        if (symbolic_refs_[s.arg_ids[k]] != nullptr) s.has_symbolic_args = true;
      }
    }
    switch (s.kind) {
      case fb::InstructionKind::KernelCall: {
        const char* op = method->operators()->Get(ins->kind_as_KernelCall()->op_index())->name()->c_str();
        s.op_name = op;
        ScalarType dtype = dispatch_dtype(s.args, s.num_args);
        s.kernel = find_kernel(op, dtype);
        if (s.kernel == nullptr) {
          return fail(Error::KernelNotFound,
                      has_kernel_for_op(op)
                          ? "method '%s', instruction %u: no kernel for operator %s with dtype %s in this runtime; "
                            "the operator has kernels for other dtypes only"
                          : "method '%s', instruction %u: no kernel for operator %s (dtype %s) in this runtime; "
                            "rebuild the runtime with this operator, or lower it to a backend that supports it",
                      name_, pc, op, scalar_type_name(dtype));
        }
        for (int k = 0; k < s.num_args; ++k) {
          const Value* a = s.args[k];
          if (a->tag != ValueTag::Tensor || a->tensor == nullptr || !is_complex(a->tensor->dtype)) continue;
          if (((s.kernel->dtypes | s.kernel->complex_dtypes) & dtype_bit(a->tensor->dtype)) == 0) {
            return fail(Error::KernelNotFound,
                        "method '%s', instruction %u: the kernel for operator %s does not take %s tensors "
                        "(argument %d); complex tensors are supported by the FFT operators, abs and data movement only",
                        name_, pc, op, scalar_type_name(a->tensor->dtype), k);
          }
        }
        if (s.kernel->scratch_bytes != nullptr) {
          size_t need = s.kernel->scratch_bytes(s.args, s.num_args);
          if (need > scratch_needed) scratch_needed = need;
        }
        break;
      }
      case fb::InstructionKind::DelegateCall: {
        const fb::Delegate* d = method->delegates()->Get(ins->kind_as_DelegateCall()->delegate_index());
        const char* backend_name = d->backend()->c_str();
        s.op_name = backend_name;
        s.backend = find_backend(backend_name);
        if (s.backend == nullptr) {
          // Plugin packages are named wick-<name> with dashes for underscores.
          char package[64];
          size_t k = 0;
          for (; backend_name[k] != '\0' && k + 1 < sizeof(package); ++k) {
            package[k] = backend_name[k] == '_' ? '-' : backend_name[k];
          }
          package[k] = '\0';
          return fail(Error::BackendNotFound,
                      "method '%s' delegates to backend '%s', which is not registered in this runtime; "
                      "install its plugin package (pip install wick-%s) or load its library (wick-run --backend-lib)",
                      name_, backend_name, package);
        }
        s.tensor_args = allocator.allocate_array<WickTensorArg>(s.num_args > 0 ? s.num_args : 1);
        const size_t program_specs = d->compile_specs() ? d->compile_specs()->size() : 0;
        size_t num_specs = 0;
        WickCompileSpec* specs = allocator.allocate_array<WickCompileSpec>(program_specs + num_options + 1);
        if (s.tensor_args == nullptr || specs == nullptr) {
          return fail(Error::OutOfMemory, "allocator too small for delegates of method '%s'", name_);
        }
        s.compatibility = "";
        for (size_t k = 0; k < program_specs; ++k) {
          const fb::CompileSpec* spec = d->compile_specs()->Get(static_cast<uint32_t>(k));
          const char* key = spec->key()->c_str();
          if (std::strncmp(key, kReservedSpecPrefix, sizeof(kReservedSpecPrefix) - 1) == 0) {
            // Reserved for the host; the compatibility string goes to validate_blob.
            if (std::strcmp(key, WICK_SPEC_COMPATIBILITY) == 0 && spec->value() != nullptr) {
              char* text = static_cast<char*>(allocator.allocate(spec->value()->size() + 1, 1));
              if (text == nullptr) return fail(Error::OutOfMemory, "allocator too small for delegates of method '%s'", name_);
              std::memcpy(text, spec->value()->data(), spec->value()->size());
              text[spec->value()->size()] = '\0';
              s.compatibility = text;
            }
            continue;
          }
          specs[num_specs].key = key;
          specs[num_specs].value = spec->value() ? spec->value()->data() : nullptr;
          specs[num_specs].value_size = spec->value() ? spec->value()->size() : 0;
          ++num_specs;
        }
        s.specs = specs;
        s.num_specs = apply_backend_options(backend_name, options, num_options, specs, num_specs);
        s.blob = program.segment(d->segment(), &s.blob_size);
        break;
      }
      case fb::InstructionKind::JumpFalse:
        s.op_name = "jump_false";
        s.a = ins->kind_as_JumpFalse()->cond();
        s.b = ins->kind_as_JumpFalse()->destination();
        break;
      case fb::InstructionKind::Move:
        s.op_name = "move";
        s.a = ins->kind_as_Move()->from();
        s.b = ins->kind_as_Move()->to();
        break;
      default: return fail(Error::InvalidProgram, "unknown instruction %u", pc);
    }
  }
  if (scratch_needed > 0) {
    scratch_ = allocator.allocate(scratch_needed, kScratchAlignment);
    if (scratch_ == nullptr) return fail(Error::OutOfMemory, "allocator too small for %zu bytes of kernel scratch", scratch_needed);
    scratch_bytes_ = scratch_needed;
  }
  return init_delegates(allocator);
}

// Once everything else of the method is in place: each delegate's init runs
// exactly once, taking its memory from `allocator`.
Error Method::init_delegates(MemoryAllocator& allocator) {
  WickHostAllocator host{&allocator, [](void* ctx, size_t bytes, size_t alignment) -> void* {
                           return static_cast<MemoryAllocator*>(ctx)->allocate(bytes, alignment);
                         }};
  WickNamedData named_data{nullptr, [](void*, const char*, size_t* size) -> const uint8_t* {
                             if (size != nullptr) *size = 0;
                             return nullptr;  // programs carry no named data yet
                           }};
  uint32_t delegate_index = 0;
  for (uint32_t pc = 0; pc < num_steps_; ++pc) {
    Step& s = steps_[pc];
    if (s.kind != fb::InstructionKind::DelegateCall) continue;
    const char* backend_name = s.op_name;
    char reason[256] = "";
    if (s.backend->is_available != nullptr && !s.backend->is_available(s.backend->self, reason, sizeof(reason))) {
      return fail(Error::BackendFailed, "backend '%s' is not available here: %s", backend_name, reason);
    }
    char error[512] = "";
    if (s.backend->validate_blob != nullptr) {
      WickStatus status =
          s.backend->validate_blob(s.backend->self, s.blob, s.blob_size, s.compatibility, error, sizeof(error));
      if (status != WICK_STATUS_OK) {
        return fail(Error::BackendFailed, "backend '%s' cannot run delegate %u of method '%s': %s", backend_name,
                    delegate_index, name_,
                    error[0] ? error : (status == WICK_STATUS_INCOMPATIBLE_BLOB ? "the blob was made for another build"
                                                                                 : "the blob is invalid"));
      }
    }
    WickInitArgs args = {};
    args.header = WICK_STRUCT_HEADER(WickInitArgs);
    args.blob = s.blob;
    args.blob_size = s.blob_size;
    args.specs = s.specs;
    args.num_specs = s.num_specs;
    args.allocator = &host;
    args.named_data = &named_data;
    args.method_name = name_;
    args.delegate_index = delegate_index++;
    WickStatus status = s.backend->init(s.backend->self, &args, &s.handle, error, sizeof(error));
    if (status != WICK_STATUS_OK) {
      s.handle = nullptr;
      return fail(status == WICK_STATUS_OUT_OF_MEMORY ? Error::OutOfMemory : Error::BackendFailed,
                  "backend '%s' failed to initialize its delegate in method '%s': %s", backend_name, name_,
                  status == WICK_STATUS_OUT_OF_MEMORY && error[0] == '\0' ? "out of memory" : error);
    }
  }
  return Error::Ok;
}

Error Method::set_input(size_t i, void* data, ScalarType dtype, const int64_t* sizes, int dim) {
  if (!loaded_) return fail(Error::InvalidArgument, "method is not loaded");
  if (i >= num_inputs_) return fail(Error::NotFound, "method '%s' has %zu inputs; input %zu does not exist", name_, num_inputs_, i);
  Value& v = values_[input_ids_[i]];
  if (!v.is_tensor()) return fail(Error::InvalidArgument, "input %zu of method '%s' is a %s, not a tensor", i, name_, value_tag_name(v.tag));
  Tensor& t = *v.tensor;
  if (dtype != t.dtype) {
    return fail(Error::InvalidArgument, "input %zu of method '%s' must be %s, got %s", i, name_,
                scalar_type_name(t.dtype), scalar_type_name(dtype));
  }
  if (dim != t.dim) return fail(Error::InvalidArgument, "input %zu of method '%s' must have rank %d, got %d", i, name_, t.dim, dim);
  Error err = resize_tensor(t, sizes, dim);
  if (err != Error::Ok) {
    char message[768];
    std::snprintf(message, sizeof(message), "%s", last_error_message());
    return fail(err, "input %zu of method '%s': %s", i, name_, message);
  }
  if (data == nullptr && t.nbytes() > 0) return fail(Error::InvalidArgument, "input %zu of method '%s' has no data", i, name_);
  t.data = data;
  input_bound_[i] = true;
  return Error::Ok;
}

Error Method::set_scalar_input(size_t i, const Value& value) {
  if (i >= num_inputs_) return fail(Error::NotFound, "method '%s' has no input %zu", name_, i);
  Value& v = values_[input_ids_[i]];
  if (v.tag != value.tag || v.is_tensor()) {
    return fail(Error::InvalidArgument, "input %zu of method '%s' is a %s; got a %s", i, name_, value_tag_name(v.tag),
                value_tag_name(value.tag));
  }
  v = value;
  input_bound_[i] = true;
  return Error::Ok;
}

void Method::refresh_symbolic_lists(const Step& step) {
  for (int k = 0; k < step.num_args; ++k) {
    const int32_t* refs = symbolic_refs_[step.arg_ids[k]];
    if (refs == nullptr) continue;
    Value& list = values_[step.arg_ids[k]];
    for (int32_t j = 0; j < list.ints.size; ++j) {
      if (refs[j] >= 0) list.ints.data[j] = values_[refs[j]].i;
    }
  }
}

Error Method::run_delegate(const Step& step) {
  for (int k = 0; k < step.num_args; ++k) {
    Tensor* t = step.args[k]->tensor;
    step.tensor_args[k] = WickTensorArg{t->data, static_cast<int32_t>(t->dtype), t->dim, t->sizes, t->capacity};
  }
  char error[512] = "";
  WickStatus status = step.backend->execute(step.backend->self, step.handle, step.tensor_args,
                                            static_cast<size_t>(step.num_args), error, sizeof(error));
  if (status != WICK_STATUS_OK) return fail(Error::BackendFailed, "backend '%s' failed: %s", step.op_name, error);
  // A backend may have written new output sizes; keep them within bounds.
  for (int k = 0; k < step.num_args; ++k) {
    Tensor* t = step.args[k]->tensor;
    if (t->dim > kMaxDims || t->nbytes() > t->capacity) {
      return fail(Error::BackendFailed, "backend '%s' reported an output larger than planned", step.op_name);
    }
  }
  return Error::Ok;
}

Error Method::execute() {
  if (!loaded_) return fail(Error::InvalidArgument, "method is not loaded");
  for (size_t k = 0; k < num_inputs_; ++k) {
    if (!input_bound_[k]) return fail(Error::InvalidArgument, "input %zu of method '%s' was not set", k, name_);
  }
  KernelContext ctx;
  ctx.scratch = scratch_;
  ctx.scratch_bytes = scratch_bytes_;
  const uint64_t method_event = trace_begin(name_, "method");
  uint32_t pc = 0;
  while (pc < num_steps_) {
    const Step& s = steps_[pc];
    Error err = Error::Ok;
    uint32_t next = pc + 1;
    switch (s.kind) {
      case fb::InstructionKind::KernelCall: {
        if (s.has_symbolic_args) refresh_symbolic_lists(s);
        ctx.op_name = s.op_name;
        const uint64_t event = trace_begin(s.op_name, "kernel");
        err = s.kernel->fn(ctx, s.args, s.num_args);
        trace_end(event);
        break;
      }
      case fb::InstructionKind::DelegateCall: {
        const uint64_t event = trace_begin(s.op_name, "delegate");
        err = run_delegate(s);
        trace_end(event);
        break;
      }
      case fb::InstructionKind::JumpFalse: {
        const Value& cond = values_[s.a];
        bool truth = cond.is_tensor() ? (cond.tensor->numel() == 1 && *cond.tensor->data_as<const uint8_t>() != 0)
                                      : cond.b;
        if (!truth) next = s.b;
        break;
      }
      case fb::InstructionKind::Move: {
        Value& from = values_[s.a];
        Value& to = values_[s.b];
        if (from.is_tensor()) {
          err = resize_tensor(*to.tensor, from.tensor->sizes, from.tensor->dim);
          if (err == Error::Ok && from.tensor->data != to.tensor->data) {
            std::memmove(to.tensor->data, from.tensor->data, from.tensor->nbytes());
          }
        } else {
          to = from;
        }
        break;
      }
      default: err = fail(Error::Internal, "unknown instruction kind");
    }
    if (err != Error::Ok) {
      trace_end(method_event);
      return with_context(err, name_, pc, s.op_name);
    }
    pc = next;
  }
  trace_end(method_event);
  return Error::Ok;
}

}  // namespace wick
