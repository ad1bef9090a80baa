// Runtime half of the 'vulkan' backend behind Wick's C ABI (wick/backend.h,
// backend ABI 2).
//
// validate_blob(): the plan version the AOT half wrote in the compatibility
// string must be one this runtime reads.
// init(): verifies the plan (schema/vulkan_plan.fbs), creates the device
// buffers (weights, arena) and the host staging buffers, uploads the weights
// once, builds one compute pipeline per shader the plan uses, and records
// one command buffer: inputs staging -> arena, every dispatch with a barrier
// after it, arena -> outputs staging.
// execute(): memcpy into the mapped input staging buffer, submit the
// recorded command buffer, wait on a fence, memcpy out. No host allocation.
// With a profiler listening (host services), each phase is a traced event:
// upload, gpu (submit and wait), download, with byte counters.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <new>

#include "flatbuffers/flatbuffers.h"
#include "vulkan_context.h"
#include "vulkan_plan_generated.h"
#include "wick/backend.h"

namespace wick_vulkan {
namespace {

struct EmbeddedShader {
  const char* name;
  fb::DType storage;  // the float type of its buffers (shaders/common.glsl)
  const uint32_t* code;
  size_t size;
};
#include "shader_table.inc"
constexpr size_t kNumShaders = sizeof(kShaders) / sizeof(kShaders[0]);

// Plans this runtime reads: 1 (float32) and 2 (float16 storage, dtypes).
constexpr uint32_t kMinPlanVersion = 1, kPlanVersion = 2;
constexpr uint32_t kMaxBindings = 4;
constexpr uint32_t kPushWords = 32;
// How long one execute may take before it is reported as a hang (ns).
constexpr uint64_t kFenceTimeoutNs = 120ull * 1000 * 1000 * 1000;

#ifndef WICK_VULKAN_VERSION
#define WICK_VULKAN_VERSION "unknown"
#endif

// The host services, received at registration (attach); null before.
const WickHostServices* g_host = nullptr;

struct Buffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkDeviceSize size = 0;
  void* mapped = nullptr;  // host-visible buffers only
  bool host_visible = false;
};

struct Io {
  fb::Memory memory;
  uint64_t offset;      // in the weights or arena buffer
  uint64_t size;        // bytes
  uint64_t staging;     // offset in the staging buffer
  int32_t dtype;        // WickDType the argument must have; -1: not recorded (version-1 plan)
};

// Owned by the handle; the handle itself lives in memory from the host
// allocator (released by the runtime), its Vulkan objects are destroyed in destroy().
struct Handle {
  Device* dev = nullptr;
  Buffer weights, arena, in_staging, out_staging;
  Io* inputs = nullptr;
  Io* outputs = nullptr;
  uint32_t num_inputs = 0, num_outputs = 0;
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout pipeline_layout = VK_NULL_HANDLE;
  VkPipeline pipelines[kNumShaders] = {};
  VkDescriptorPool pool = VK_NULL_HANDLE;
  VkCommandPool command_pool = VK_NULL_HANDLE;
  VkCommandBuffer commands = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
};

WickStatus status_of(VkResult r) {
  return (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) ? WICK_STATUS_OUT_OF_MEMORY
                                                                                    : WICK_STATUS_ERROR;
}

#define VK_CHECK(call, what)                                                                        \
  do {                                                                                              \
    VkResult _r = (call);                                                                           \
    if (_r != VK_SUCCESS) {                                                                         \
      if (_r == VK_ERROR_DEVICE_LOST) h->dev->lost = true;                                          \
      std::snprintf(error, error_size, "vulkan: %s failed on %s: %s", what, h->dev->description,   \
                    result_name(_r));                                                               \
      return status_of(_r);                                                                         \
    }                                                                                               \
  } while (0)

int find_memory_type(const VkPhysicalDeviceMemoryProperties& mem, uint32_t bits, VkMemoryPropertyFlags required,
                     VkMemoryPropertyFlags preferred) {
  for (int pass = 0; pass < 2; ++pass) {
    VkMemoryPropertyFlags want = pass == 0 ? (required | preferred) : required;
    for (uint32_t i = 0; i < mem.memoryTypeCount; ++i) {
      if ((bits & (1u << i)) && (mem.memoryTypes[i].propertyFlags & want) == want) return static_cast<int>(i);
    }
  }
  return -1;
}

WickStatus make_buffer(Handle* h, Buffer* b, VkDeviceSize size, bool host, bool readback, char* error,
                       size_t error_size) {
  const Api& vk = api();
  b->size = size < 256 ? 256 : size;
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = b->size;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VK_CHECK(vk.vkCreateBuffer(h->dev->device, &info, nullptr, &b->buffer), "vkCreateBuffer");
  VkMemoryRequirements req;
  vk.vkGetBufferMemoryRequirements(h->dev->device, b->buffer, &req);
  VkMemoryPropertyFlags required = host ? (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) : 0;
  VkMemoryPropertyFlags preferred = host ? (readback ? VK_MEMORY_PROPERTY_HOST_CACHED_BIT : 0)
                                         : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  int type = find_memory_type(h->dev->memory, req.memoryTypeBits, required, preferred);
  if (type < 0) {
    std::snprintf(error, error_size, "vulkan: no suitable memory type for a %s buffer of %" PRIu64 " bytes on %s",
                  host ? "host-visible" : "device", static_cast<uint64_t>(b->size), h->dev->description);
    return WICK_STATUS_ERROR;
  }
  VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = static_cast<uint32_t>(type);
  VK_CHECK(vk.vkAllocateMemory(h->dev->device, &alloc, nullptr, &b->memory), "vkAllocateMemory");
  VK_CHECK(vk.vkBindBufferMemory(h->dev->device, b->buffer, b->memory, 0), "vkBindBufferMemory");
  const VkMemoryPropertyFlags flags = h->dev->memory.memoryTypes[type].propertyFlags;
  b->host_visible = (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && (flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  if (b->host_visible) VK_CHECK(vk.vkMapMemory(h->dev->device, b->memory, 0, VK_WHOLE_SIZE, 0, &b->mapped), "vkMapMemory");
  return WICK_STATUS_OK;
}

void free_buffer(Device* dev, Buffer* b) {
  const Api& vk = api();
  if (b->buffer) vk.vkDestroyBuffer(dev->device, b->buffer, nullptr);
  if (b->memory) vk.vkFreeMemory(dev->device, b->memory, nullptr);  // unmaps implicitly
  *b = Buffer();
}

// Runs a one-off command buffer recorded by `record` and waits for it (init only).
template <typename F>
WickStatus run_once(Handle* h, F record, char* error, size_t error_size) {
  const Api& vk = api();
  VkCommandBuffer cb;
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = h->command_pool;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VK_CHECK(vk.vkAllocateCommandBuffers(h->dev->device, &ai, &cb), "vkAllocateCommandBuffers");
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  VK_CHECK(vk.vkBeginCommandBuffer(cb, &bi), "vkBeginCommandBuffer");
  record(cb);
  VK_CHECK(vk.vkEndCommandBuffer(cb), "vkEndCommandBuffer");
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  std::lock_guard<std::mutex> lock(h->dev->queue_mutex);
  VK_CHECK(vk.vkQueueSubmit(h->dev->queue, 1, &si, VK_NULL_HANDLE), "vkQueueSubmit");
  VK_CHECK(vk.vkQueueWaitIdle(h->dev->queue), "vkQueueWaitIdle");
  return WICK_STATUS_OK;
}

void barrier(VkCommandBuffer cb, VkPipelineStageFlags src, VkAccessFlags src_access, VkPipelineStageFlags dst,
             VkAccessFlags dst_access) {
  VkMemoryBarrier b{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  b.srcAccessMask = src_access;
  b.dstAccessMask = dst_access;
  api().vkCmdPipelineBarrier(cb, src, dst, 0, 1, &b, 0, nullptr, 0, nullptr);
}

int find_shader(const flatbuffers::String* name, fb::DType storage) {
  if (name == nullptr) return -1;
  for (size_t i = 0; i < kNumShaders; ++i)
    if (kShaders[i].storage == storage && std::strcmp(kShaders[i].name, name->c_str()) == 0)
      return static_cast<int>(i);
  return -1;
}

int32_t wick_dtype(fb::DType t) {
  switch (t) {
    case fb::DType::Float32: return WICK_DTYPE_FLOAT32;
    case fb::DType::Float16: return WICK_DTYPE_FLOAT16;
    case fb::DType::Int32: return WICK_DTYPE_INT32;
    case fb::DType::Int64: return WICK_DTYPE_INT64;
    default: return -1;
  }
}

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case WICK_DTYPE_FLOAT32: return "float32";
    case WICK_DTYPE_FLOAT64: return "float64";
    case WICK_DTYPE_FLOAT16: return "float16";
    case WICK_DTYPE_BFLOAT16: return "bfloat16";
    case WICK_DTYPE_INT8: return "int8";
    case WICK_DTYPE_INT16: return "int16";
    case WICK_DTYPE_INT32: return "int32";
    case WICK_DTYPE_INT64: return "int64";
    case WICK_DTYPE_UINT8: return "uint8";
    case WICK_DTYPE_BOOL: return "bool";
    default: return "unknown";
  }
}

bool region_ok(const fb::Region* r, uint64_t weights_size, uint64_t arena_size) {
  uint64_t limit = r->memory() == fb::Memory::Weights ? weights_size : arena_size;
  if (r->memory() != fb::Memory::Weights && r->memory() != fb::Memory::Arena) return false;
  return r->size() > 0 && r->offset() <= limit && r->size() <= limit - r->offset();
}

void destroy_handle(void* handle);

WickStatus init_plan(Handle* h, const fb::Plan* plan, const WickHostAllocator* allocator, char* error,
                     size_t error_size) {
  const Api& vk = api();
  VkDevice dev = h->dev->device;
  const VkPhysicalDeviceLimits& limits = h->dev->properties.limits;
  const uint64_t weights_size = plan->weights() ? plan->weights()->size() : 0;
  const uint64_t arena_size = plan->arena_bytes();
  const auto* dispatches = plan->dispatches();
  const uint32_t num_dispatches = dispatches ? dispatches->size() : 0;

  // ---- Validate every index, offset and count before touching the device.
  if (plan->version() < kMinPlanVersion || plan->version() > kPlanVersion) {
    std::snprintf(error, error_size, "vulkan: plan version %u, this runtime reads versions %u to %u (the program "
                  "was made by %s wick-vulkan: export it again with the installed one)", plan->version(),
                  kMinPlanVersion, kPlanVersion, plan->version() > kPlanVersion ? "a newer" : "an unknown");
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  // Argument dtypes (version 2): one per argument, each a known type.
  using Regions = flatbuffers::Vector<const fb::Region*>;
  const auto check_dtypes = [&](const flatbuffers::Vector<fb::DType>* v, const Regions* r, const char* what) {
    if (v == nullptr) return true;
    if (v->size() != (r ? r->size() : 0)) {
      std::snprintf(error, error_size, "vulkan: the plan has %u %s dtypes for %u %ss", v->size(), what,
                    r ? r->size() : 0, what);
      return false;
    }
    for (uint32_t i = 0; i < v->size(); ++i) {
      if (wick_dtype(v->Get(i)) < 0) {
        std::snprintf(error, error_size, "vulkan: %s %u has an unknown dtype code %u", what, i,
                      static_cast<unsigned>(v->Get(i)));
        return false;
      }
    }
    return true;
  };
  if (!check_dtypes(plan->input_dtypes(), plan->inputs(), "input") ||
      !check_dtypes(plan->output_dtypes(), plan->outputs(), "output"))
    return WICK_STATUS_INVALID_ARGUMENT;
  const auto check_regions = [&](const flatbuffers::Vector<const fb::Region*>* v, const char* what) {
    if (v == nullptr) return true;
    for (uint32_t i = 0; i < v->size(); ++i) {
      const fb::Region* r = v->Get(i);
      if (!region_ok(r, weights_size, arena_size)) {
        std::snprintf(error, error_size, "vulkan: %s %u is outside its buffer (offset %" PRIu64 ", %" PRIu64
                      " bytes; weights %" PRIu64 ", arena %" PRIu64 ")", what, i, r->offset(), r->size(),
                      weights_size, arena_size);
        return false;
      }
    }
    return true;
  };
  if (!check_regions(plan->outputs(), "output")) return WICK_STATUS_INVALID_ARGUMENT;
  if (plan->inputs()) {
    for (uint32_t i = 0; i < plan->inputs()->size(); ++i) {
      const fb::Region* r = plan->inputs()->Get(i);
      if (r->memory() != fb::Memory::Arena || (r->size() != 0 && !region_ok(r, weights_size, arena_size))) {
        std::snprintf(error, error_size, "vulkan: input %u is not a region of the arena", i);
        return WICK_STATUS_INVALID_ARGUMENT;
      }
    }
  }
  for (uint32_t i = 0; i < num_dispatches; ++i) {
    const fb::Dispatch* d = dispatches->Get(i);
    const char* label = d->label() ? d->label()->c_str() : "?";
    if (d->storage() != fb::DType::Float32 && d->storage() != fb::DType::Float16) {
      std::snprintf(error, error_size, "vulkan: dispatch %u (%s) asks for storage type code %u; shaders are built "
                    "for float32 and float16 only", i, label, static_cast<unsigned>(d->storage()));
      return WICK_STATUS_INVALID_ARGUMENT;
    }
    if (d->storage() == fb::DType::Float16 && !h->dev->float16_storage) {
      std::snprintf(error, error_size, "vulkan: this program keeps float16 tensors on the device (first in dispatch "
                    "%u, %s), but %s cannot: %s. Run it on a device with float16 storage (`wick backends` shows "
                    "it), or export the model in float32", i, label, h->dev->properties.deviceName,
                    h->dev->float16_missing);
      return WICK_STATUS_UNSUPPORTED;
    }
    if (find_shader(d->shader(), d->storage()) < 0) {
      std::snprintf(error, error_size, "vulkan: dispatch %u (%s) names shader '%s', which this build of wick-vulkan "
                    "does not have (program made by a newer plugin?)", i, label,
                    d->shader() ? d->shader()->c_str() : "");
      return WICK_STATUS_UNSUPPORTED;
    }
    if (!d->bindings() || d->bindings()->size() == 0 || d->bindings()->size() > kMaxBindings ||
        !check_regions(d->bindings(), "binding")) {
      if (!d->bindings() || d->bindings()->size() == 0 || d->bindings()->size() > kMaxBindings)
        std::snprintf(error, error_size, "vulkan: dispatch %u (%s) has %u bindings (1 to %u allowed)", i, label,
                      d->bindings() ? d->bindings()->size() : 0, kMaxBindings);
      return WICK_STATUS_INVALID_ARGUMENT;
    }
    for (uint32_t b = 0; b < d->bindings()->size(); ++b) {
      const fb::Region* r = d->bindings()->Get(b);
      if (r->offset() % limits.minStorageBufferOffsetAlignment != 0 || r->size() > limits.maxStorageBufferRange) {
        std::snprintf(error, error_size, "vulkan: dispatch %u (%s) binding %u (offset %" PRIu64 ", %" PRIu64
                      " bytes) breaks this device's limits (alignment %" PRIu64 ", range %u)", i, label, b,
                      r->offset(), r->size(), static_cast<uint64_t>(limits.minStorageBufferOffsetAlignment),
                      limits.maxStorageBufferRange);
        return WICK_STATUS_UNSUPPORTED;
      }
    }
    if ((d->push() && d->push()->size() > kPushWords) || !d->groups() || d->groups()->size() != 3) {
      std::snprintf(error, error_size, "vulkan: dispatch %u (%s) has a malformed push constant or group count", i,
                    label);
      return WICK_STATUS_INVALID_ARGUMENT;
    }
    for (uint32_t g = 0; g < 3; ++g) {
      if (d->groups()->Get(g) == 0 || d->groups()->Get(g) > limits.maxComputeWorkGroupCount[g]) {
        std::snprintf(error, error_size, "vulkan: dispatch %u (%s) needs %u workgroups along axis %u; this device "
                      "allows %u", i, label, d->groups()->Get(g), g, limits.maxComputeWorkGroupCount[g]);
        return WICK_STATUS_UNSUPPORTED;
      }
    }
  }
  if (limits.maxPushConstantsSize < 4 * kPushWords) {
    std::snprintf(error, error_size, "vulkan: %s offers %u bytes of push constants; 128 are needed",
                  h->dev->description, limits.maxPushConstantsSize);
    return WICK_STATUS_UNSUPPORTED;
  }

  // ---- Host-side tables, from the runtime's allocator.
  h->num_inputs = plan->inputs() ? plan->inputs()->size() : 0;
  h->num_outputs = plan->outputs() ? plan->outputs()->size() : 0;
  auto alloc_io = [&](uint32_t n) -> Io* {
    if (n == 0) return nullptr;
    return static_cast<Io*>(allocator->allocate(allocator->context, sizeof(Io) * n, alignof(Io)));
  };
  h->inputs = alloc_io(h->num_inputs);
  h->outputs = alloc_io(h->num_outputs);
  if ((h->num_inputs && !h->inputs) || (h->num_outputs && !h->outputs)) {
    std::snprintf(error, error_size, "vulkan: out of host memory for the argument tables");
    return WICK_STATUS_OUT_OF_MEMORY;
  }
  uint64_t in_bytes = 0, out_bytes = 0;
  for (uint32_t i = 0; i < h->num_inputs; ++i) {
    const fb::Region* r = plan->inputs()->Get(i);
    int32_t dtype = plan->input_dtypes() ? wick_dtype(plan->input_dtypes()->Get(i)) : -1;
    h->inputs[i] = Io{r->memory(), r->offset(), r->size(), in_bytes, dtype};
    in_bytes += (r->size() + 255) / 256 * 256;
  }
  for (uint32_t i = 0; i < h->num_outputs; ++i) {
    const fb::Region* r = plan->outputs()->Get(i);
    int32_t dtype = plan->output_dtypes() ? wick_dtype(plan->output_dtypes()->Get(i)) : -1;
    h->outputs[i] = Io{r->memory(), r->offset(), r->size(), out_bytes, dtype};
    out_bytes += (r->size() + 255) / 256 * 256;
  }

  // ---- Buffers, command pool, weights upload.
  WickStatus s;
  if ((s = make_buffer(h, &h->weights, weights_size, false, false, error, error_size)) != WICK_STATUS_OK) return s;
  if ((s = make_buffer(h, &h->arena, arena_size, false, false, error, error_size)) != WICK_STATUS_OK) return s;
  if ((s = make_buffer(h, &h->in_staging, in_bytes, true, false, error, error_size)) != WICK_STATUS_OK) return s;
  if ((s = make_buffer(h, &h->out_staging, out_bytes, true, true, error, error_size)) != WICK_STATUS_OK) return s;
  VkCommandPoolCreateInfo cpi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  cpi.queueFamilyIndex = h->dev->queue_family;
  VK_CHECK(vk.vkCreateCommandPool(dev, &cpi, nullptr, &h->command_pool), "vkCreateCommandPool");
  if (weights_size > 0) {
    if (h->weights.host_visible) {
      std::memcpy(h->weights.mapped, plan->weights()->data(), weights_size);
    } else {
      Buffer staging;
      if ((s = make_buffer(h, &staging, weights_size, true, false, error, error_size)) != WICK_STATUS_OK) {
        free_buffer(h->dev, &staging);
        return s;
      }
      std::memcpy(staging.mapped, plan->weights()->data(), weights_size);
      VkBufferCopy copy{0, 0, weights_size};
      s = run_once(h, [&](VkCommandBuffer cb) { vk.vkCmdCopyBuffer(cb, staging.buffer, h->weights.buffer, 1, &copy); },
                   error, error_size);
      free_buffer(h->dev, &staging);
      if (s != WICK_STATUS_OK) return s;
    }
  }

  // ---- One descriptor layout (4 storage buffers) and 128 bytes of push constants for every shader.
  VkDescriptorSetLayoutBinding bindings[kMaxBindings];
  for (uint32_t b = 0; b < kMaxBindings; ++b) {
    bindings[b] = VkDescriptorSetLayoutBinding{b, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT,
                                               nullptr};
  }
  VkDescriptorSetLayoutCreateInfo dli{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  dli.bindingCount = kMaxBindings;
  dli.pBindings = bindings;
  VK_CHECK(vk.vkCreateDescriptorSetLayout(dev, &dli, nullptr, &h->set_layout), "vkCreateDescriptorSetLayout");
  VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, 4 * kPushWords};
  VkPipelineLayoutCreateInfo pli{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  pli.setLayoutCount = 1;
  pli.pSetLayouts = &h->set_layout;
  pli.pushConstantRangeCount = 1;
  pli.pPushConstantRanges = &push;
  VK_CHECK(vk.vkCreatePipelineLayout(dev, &pli, nullptr, &h->pipeline_layout), "vkCreatePipelineLayout");
  for (uint32_t i = 0; i < num_dispatches; ++i) {
    int si = find_shader(dispatches->Get(i)->shader(), dispatches->Get(i)->storage());
    if (h->pipelines[si]) continue;
    VkShaderModuleCreateInfo smi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    smi.codeSize = kShaders[si].size;
    smi.pCode = kShaders[si].code;
    VkShaderModule module;
    VK_CHECK(vk.vkCreateShaderModule(dev, &smi, nullptr, &module), "vkCreateShaderModule");
    VkComputePipelineCreateInfo cpi2{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    cpi2.stage = VkPipelineShaderStageCreateInfo{VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    cpi2.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    cpi2.stage.module = module;
    cpi2.stage.pName = "main";
    cpi2.layout = h->pipeline_layout;
    VkResult r = vk.vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &cpi2, nullptr, &h->pipelines[si]);
    vk.vkDestroyShaderModule(dev, module, nullptr);
    VK_CHECK(r, "vkCreateComputePipelines");
  }

  // ---- Descriptor sets, one per dispatch.
  VkDescriptorSet* sets = nullptr;
  if (num_dispatches) {
    VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kMaxBindings * num_dispatches};
    VkDescriptorPoolCreateInfo dpi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    dpi.maxSets = num_dispatches;
    dpi.poolSizeCount = 1;
    dpi.pPoolSizes = &ps;
    VK_CHECK(vk.vkCreateDescriptorPool(dev, &dpi, nullptr, &h->pool), "vkCreateDescriptorPool");
    sets = static_cast<VkDescriptorSet*>(
        allocator->allocate(allocator->context, sizeof(VkDescriptorSet) * num_dispatches, alignof(VkDescriptorSet)));
    if (!sets) {
      std::snprintf(error, error_size, "vulkan: out of host memory for descriptor sets");
      return WICK_STATUS_OUT_OF_MEMORY;
    }
    for (uint32_t i = 0; i < num_dispatches; ++i) {
      VkDescriptorSetAllocateInfo dai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
      dai.descriptorPool = h->pool;
      dai.descriptorSetCount = 1;
      dai.pSetLayouts = &h->set_layout;
      VK_CHECK(vk.vkAllocateDescriptorSets(dev, &dai, &sets[i]), "vkAllocateDescriptorSets");
      const fb::Dispatch* d = dispatches->Get(i);
      VkDescriptorBufferInfo infos[kMaxBindings];
      VkWriteDescriptorSet writes[kMaxBindings];
      for (uint32_t b = 0; b < kMaxBindings; ++b) {
        if (b < d->bindings()->size()) {
          const fb::Region* r = d->bindings()->Get(b);
          infos[b] = {r->memory() == fb::Memory::Weights ? h->weights.buffer : h->arena.buffer, r->offset(), r->size()};
        } else {  // unused by the shader; any valid range will do
          infos[b] = {h->weights.buffer, 0, VK_WHOLE_SIZE};
        }
        writes[b] = VkWriteDescriptorSet{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
        writes[b].dstSet = sets[i];
        writes[b].dstBinding = b;
        writes[b].descriptorCount = 1;
        writes[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[b].pBufferInfo = &infos[b];
      }
      vk.vkUpdateDescriptorSets(dev, kMaxBindings, writes, 0, nullptr);
    }
  }

  // ---- The command buffer every execute replays.
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = h->command_pool;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VK_CHECK(vk.vkAllocateCommandBuffers(dev, &ai, &h->commands), "vkAllocateCommandBuffers");
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  VK_CHECK(vk.vkBeginCommandBuffer(h->commands, &bi), "vkBeginCommandBuffer");
  VkCommandBuffer cb = h->commands;
  for (uint32_t i = 0; i < h->num_inputs; ++i) {
    if (h->inputs[i].size == 0) continue;  // an argument the plan ignores
    VkBufferCopy c{h->inputs[i].staging, h->inputs[i].offset, h->inputs[i].size};
    vk.vkCmdCopyBuffer(cb, h->in_staging.buffer, h->arena.buffer, 1, &c);
  }
  barrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
          VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
  int bound = -1;
  for (uint32_t i = 0; i < num_dispatches; ++i) {
    const fb::Dispatch* d = dispatches->Get(i);
    int si = find_shader(d->shader(), d->storage());
    if (si != bound) {
      vk.vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, h->pipelines[si]);
      bound = si;
    }
    vk.vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, h->pipeline_layout, 0, 1, &sets[i], 0, nullptr);
    uint32_t words[kPushWords] = {0};
    if (d->push()) std::memcpy(words, d->push()->data(), 4 * d->push()->size());
    vk.vkCmdPushConstants(cb, h->pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(words), words);
    vk.vkCmdDispatch(cb, d->groups()->Get(0), d->groups()->Get(1), d->groups()->Get(2));
    barrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT);
  }
  for (uint32_t i = 0; i < h->num_outputs; ++i) {
    const Io& o = h->outputs[i];
    VkBufferCopy c{o.offset, o.staging, o.size};
    vk.vkCmdCopyBuffer(cb, o.memory == fb::Memory::Weights ? h->weights.buffer : h->arena.buffer,
                       h->out_staging.buffer, 1, &c);
  }
  barrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
          VK_ACCESS_HOST_READ_BIT);
  VK_CHECK(vk.vkEndCommandBuffer(cb), "vkEndCommandBuffer");
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VK_CHECK(vk.vkCreateFence(dev, &fi, nullptr, &h->fence), "vkCreateFence");
  return WICK_STATUS_OK;
}

WickStatus attach(void*, const WickHostServices* host, char*, size_t) {
  g_host = host;
  return WICK_STATUS_OK;
}

int is_available(void*, char* reason, size_t reason_size) {
  if (!load(reason, reason_size)) return 0;
  return 1;
}

// The compatibility string plan.py writes: "wick-vulkan <version>; plan WVKP <n>".
WickStatus validate_blob(void*, const uint8_t*, size_t, const char* compatibility, char* error, size_t error_size) {
  const char* plan = std::strstr(compatibility, "plan WVKP ");
  if (plan == nullptr) return WICK_STATUS_OK;  // made before compatibility strings; init checks the plan itself
  unsigned version = 0;
  if (std::sscanf(plan, "plan WVKP %u", &version) == 1 && version >= kMinPlanVersion && version <= kPlanVersion) {
    return WICK_STATUS_OK;
  }
  std::snprintf(error, error_size, "vulkan: the blob was made by \"%s\", whose plan this runtime (wick-vulkan %s) "
                "cannot read (it reads plan versions %u to %u); export the model again with the installed wick-vulkan",
                compatibility, WICK_VULKAN_VERSION, kMinPlanVersion, kPlanVersion);
  return WICK_STATUS_INCOMPATIBLE_BLOB;
}

WickStatus init(void*, const WickInitArgs* args, void** handle, char* error, size_t error_size) {
  const uint8_t* blob = args->blob;
  const size_t blob_size = args->blob_size;
  const WickCompileSpec* specs = args->specs;
  const size_t num_specs = args->num_specs;
  const WickHostAllocator* allocator = args->allocator;
  char request[128] = {0};
  for (size_t i = 0; i < num_specs; ++i) {
    if (std::strcmp(specs[i].key, "device") == 0) {
      size_t n = specs[i].value_size < sizeof(request) - 1 ? specs[i].value_size : sizeof(request) - 1;
      std::memcpy(request, specs[i].value, n);
    }
  }
  flatbuffers::Verifier verifier(blob, blob_size);
  if (blob_size < 8 || !fb::PlanBufferHasIdentifier(blob) || !fb::VerifyPlanBuffer(verifier)) {
    std::snprintf(error, error_size, "vulkan: the delegate blob (%zu bytes) is not a valid Vulkan plan (WVKP)",
                  blob_size);
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  Device* dev = device(request, error, error_size);
  if (dev == nullptr) return WICK_STATUS_UNSUPPORTED;
  void* mem = allocator->allocate(allocator->context, sizeof(Handle), alignof(Handle));
  if (mem == nullptr) {
    std::snprintf(error, error_size, "vulkan: out of host memory for the delegate handle");
    return WICK_STATUS_OUT_OF_MEMORY;
  }
  Handle* h = new (mem) Handle();
  h->dev = dev;
  WickStatus s = init_plan(h, fb::GetPlan(blob), allocator, error, error_size);
  if (s != WICK_STATUS_OK) {
    destroy_handle(h);
    return s;
  }
  *handle = h;
  return WICK_STATUS_OK;
}

size_t dtype_size(int32_t dtype) {
  switch (dtype) {
    case WICK_DTYPE_FLOAT64: case WICK_DTYPE_INT64: return 8;
    case WICK_DTYPE_FLOAT32: case WICK_DTYPE_INT32: return 4;
    case WICK_DTYPE_FLOAT16: case WICK_DTYPE_BFLOAT16: case WICK_DTYPE_INT16: return 2;
    default: return 1;
  }
}

size_t nbytes(const WickTensorArg& a) {
  size_t n = dtype_size(a.dtype);
  for (int32_t d = 0; d < a.dim; ++d) n *= static_cast<size_t>(a.sizes[d]);
  return n;
}

WickStatus execute(void*, void* handle, WickTensorArg* args, size_t num_args, char* error, size_t error_size) {
  Handle* h = static_cast<Handle*>(handle);
  const Api& vk = api();
  if (h->dev->lost) {
    std::snprintf(error, error_size, "vulkan: %s was lost earlier (VK_ERROR_DEVICE_LOST); reload the program",
                  h->dev->description);
    return WICK_STATUS_ERROR;
  }
  if (num_args != h->num_inputs + h->num_outputs) {
    std::snprintf(error, error_size, "vulkan: %zu arguments, the plan has %u inputs and %u outputs", num_args,
                  h->num_inputs, h->num_outputs);
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  for (uint32_t i = 0; i < num_args; ++i) {
    const Io& io = i < h->num_inputs ? h->inputs[i] : h->outputs[i - h->num_inputs];
    if (io.dtype >= 0 && args[i].dtype != io.dtype) {
      const bool input = i < h->num_inputs;
      std::snprintf(error, error_size, "vulkan: %s %u is %s, the plan was made for %s", input ? "input" : "output",
                    input ? i : i - h->num_inputs, dtype_name(args[i].dtype), dtype_name(io.dtype));
      return WICK_STATUS_INVALID_ARGUMENT;
    }
  }
  uint64_t event = wick_event_begin(g_host, "upload");
  int64_t uploaded = 0;
  for (uint32_t i = 0; i < h->num_inputs; ++i) {
    if (h->inputs[i].size == 0) continue;  // an argument the plan ignores
    if (nbytes(args[i]) != h->inputs[i].size) {
      std::snprintf(error, error_size, "vulkan: input %u has %zu bytes, the plan expects %" PRIu64, i,
                    nbytes(args[i]), h->inputs[i].size);
      return WICK_STATUS_INVALID_ARGUMENT;
    }
    std::memcpy(static_cast<char*>(h->in_staging.mapped) + h->inputs[i].staging, args[i].data, h->inputs[i].size);
    uploaded += static_cast<int64_t>(h->inputs[i].size);
  }
  if (event != 0) {
    const WickEventCounter bytes{"bytes", uploaded};
    wick_event_end(g_host, event, &bytes, 1);
  }
  for (uint32_t i = 0; i < h->num_outputs; ++i) {
    const WickTensorArg& a = args[h->num_inputs + i];
    if (a.capacity < h->outputs[i].size) {
      std::snprintf(error, error_size, "vulkan: output %u has room for %zu bytes, the plan writes %" PRIu64, i,
                    a.capacity, h->outputs[i].size);
      return WICK_STATUS_INVALID_ARGUMENT;
    }
  }
  event = wick_event_begin(g_host, "gpu");
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &h->commands;
  {
    std::lock_guard<std::mutex> lock(h->dev->queue_mutex);
    VK_CHECK(vk.vkQueueSubmit(h->dev->queue, 1, &si, h->fence), "vkQueueSubmit");
  }
  VkResult r = vk.vkWaitForFences(h->dev->device, 1, &h->fence, VK_TRUE, kFenceTimeoutNs);
  if (r == VK_TIMEOUT) {
    h->dev->lost = true;  // the submission may still be running; the handle cannot be reused safely
    std::snprintf(error, error_size, "vulkan: execute did not finish within %" PRIu64 " s on %s",
                  static_cast<uint64_t>(kFenceTimeoutNs / 1000000000ull), h->dev->description);
    return WICK_STATUS_ERROR;
  }
  VK_CHECK(r, "vkWaitForFences");
  VK_CHECK(vk.vkResetFences(h->dev->device, 1, &h->fence), "vkResetFences");
  wick_event_end(g_host, event, nullptr, 0);
  event = wick_event_begin(g_host, "download");
  int64_t downloaded = 0;
  for (uint32_t i = 0; i < h->num_outputs; ++i) {
    std::memcpy(args[h->num_inputs + i].data, static_cast<char*>(h->out_staging.mapped) + h->outputs[i].staging,
                h->outputs[i].size);
    downloaded += static_cast<int64_t>(h->outputs[i].size);
  }
  if (event != 0) {
    const WickEventCounter bytes{"bytes", downloaded};
    wick_event_end(g_host, event, &bytes, 1);
  }
  return WICK_STATUS_OK;
}

void destroy_handle(void* handle) {
  if (handle == nullptr) return;
  Handle* h = static_cast<Handle*>(handle);
  const Api& vk = api();
  VkDevice dev = h->dev->device;
  if (!h->dev->lost) {
    std::lock_guard<std::mutex> lock(h->dev->queue_mutex);
    vk.vkQueueWaitIdle(h->dev->queue);
  }
  if (h->fence) vk.vkDestroyFence(dev, h->fence, nullptr);
  if (h->command_pool) vk.vkDestroyCommandPool(dev, h->command_pool, nullptr);
  if (h->pool) vk.vkDestroyDescriptorPool(dev, h->pool, nullptr);
  for (size_t i = 0; i < kNumShaders; ++i)
    if (h->pipelines[i]) vk.vkDestroyPipeline(dev, h->pipelines[i], nullptr);
  if (h->pipeline_layout) vk.vkDestroyPipelineLayout(dev, h->pipeline_layout, nullptr);
  if (h->set_layout) vk.vkDestroyDescriptorSetLayout(dev, h->set_layout, nullptr);
  free_buffer(h->dev, &h->weights);
  free_buffer(h->dev, &h->arena);
  free_buffer(h->dev, &h->in_staging);
  free_buffer(h->dev, &h->out_staging);
  h->~Handle();  // the memory belongs to the runtime's allocator
}

void destroy(void*, void* handle) { destroy_handle(handle); }

WickStatus device_info(void*, WickDeviceInfo* info) {
  info->device = describe_default_device();
  info->backend_version = "wick-vulkan " WICK_VULKAN_VERSION;
  return WICK_STATUS_OK;
}

const WickBackend2 kBackend = {
    WICK_STRUCT_HEADER(WickBackend2),
    0,  // min_host_minor: any ABI 2.x host
    0,       "vulkan", nullptr, attach, is_available, validate_blob, init, execute, destroy, device_info,
};

}  // namespace
}  // namespace wick_vulkan

extern "C" __attribute__((visibility("default"))) const WickBackend2* wick_backend_entry2() {
  return &wick_vulkan::kBackend;
}
