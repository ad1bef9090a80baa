// The process-wide Vulkan state of the 'vulkan' backend: the loader, opened
// with dlopen so that a machine without it gets a reason instead of a library
// that fails to load; one instance; one logical device per chosen physical
// device, shared by every delegate handle and never destroyed (drivers
// dislike teardown at process exit).
#ifndef WICK_VULKAN_CONTEXT_H_
#define WICK_VULKAN_CONTEXT_H_

#include <vulkan/vulkan.h>

#include <cstddef>
#include <mutex>

namespace wick_vulkan {

// Every Vulkan entry point the backend calls, loaded at run time.
#define WICK_VK_INSTANCE_FUNCTIONS(X)                                                             \
  X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties)             \
  X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures2)                               \
  X(vkGetPhysicalDeviceQueueFamilyProperties)                                                     \
  X(vkGetPhysicalDeviceMemoryProperties) X(vkCreateDevice) X(vkGetDeviceProcAddr)
#define WICK_VK_DEVICE_FUNCTIONS(X)                                                               \
  X(vkGetDeviceQueue) X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements)       \
  X(vkAllocateMemory) X(vkFreeMemory) X(vkBindBufferMemory) X(vkMapMemory) X(vkUnmapMemory)       \
  X(vkCreateShaderModule) X(vkDestroyShaderModule) X(vkCreateDescriptorSetLayout)                 \
  X(vkDestroyDescriptorSetLayout) X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout)            \
  X(vkCreateComputePipelines) X(vkDestroyPipeline) X(vkCreateDescriptorPool)                      \
  X(vkDestroyDescriptorPool) X(vkAllocateDescriptorSets) X(vkUpdateDescriptorSets)                \
  X(vkCreateCommandPool) X(vkDestroyCommandPool) X(vkAllocateCommandBuffers)                      \
  X(vkBeginCommandBuffer) X(vkEndCommandBuffer) X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets)   \
  X(vkCmdPushConstants) X(vkCmdDispatch) X(vkCmdPipelineBarrier) X(vkCmdCopyBuffer)               \
  X(vkCreateFence) X(vkDestroyFence) X(vkResetFences) X(vkWaitForFences) X(vkQueueSubmit)         \
  X(vkQueueWaitIdle) X(vkDeviceWaitIdle)

struct Api {
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
  PFN_vkCreateInstance vkCreateInstance = nullptr;
  PFN_vkEnumerateInstanceVersion vkEnumerateInstanceVersion = nullptr;
#define WICK_VK_DECLARE(name) PFN_##name name = nullptr;
  WICK_VK_INSTANCE_FUNCTIONS(WICK_VK_DECLARE)
  WICK_VK_DEVICE_FUNCTIONS(WICK_VK_DECLARE)
#undef WICK_VK_DECLARE
};

// One logical device with one compute queue.
struct Device {
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t queue_family = 0;
  VkPhysicalDeviceProperties properties{};
  VkPhysicalDeviceMemoryProperties memory{};
  // Vulkan requires external synchronization of a queue: distinct handles
  // may run on distinct threads and share this queue.
  std::mutex queue_mutex;
  // Set once the driver reported VK_ERROR_DEVICE_LOST; every later execute fails fast.
  bool lost = false;
  // storageBuffer16BitAccess was found and enabled at device creation: the
  // float16 shader variants may run. When false, `float16_missing` says why.
  bool float16_storage = false;
  char float16_missing[160] = {0};
  char description[512] = {0};
};

const Api& api();

// Loads the loader and creates the instance (once). Returns false and writes
// a reason naming the Debian packages when Vulkan is not usable here.
bool load(char* reason, size_t reason_size);

// The device to run on. `request` (may be null or empty) is a compile spec
// value: a device index as `vulkaninfo` lists them, or a substring of the
// device name. WICK_VULKAN_DEVICE in the environment overrides it. Without
// either, the first discrete GPU, else integrated, virtual, other, and a CPU
// implementation (lavapipe) only when nothing else exists.
Device* device(const char* request, char* error, size_t error_size);

// Environment variable that makes the backend treat every device as lacking
// float16 storage (to test that path, or to rule float16 out on a driver).
constexpr const char* kNoFloat16Env = "WICK_VULKAN_NO_FLOAT16";

// "llvmpipe (LLVM 15.0.6, 256 bits) (CPU), driver llvmpipe Mesa 22.3.6, Vulkan 1.3.230,
// float16 storage yes [no GPU: Vulkan on the CPU]"
const char* describe_default_device();

const char* result_name(VkResult r);

}  // namespace wick_vulkan

#endif  // WICK_VULKAN_CONTEXT_H_
