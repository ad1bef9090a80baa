// Loader, instance and device selection for the 'vulkan' backend.
#include "vulkan_context.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace wick_vulkan {
namespace {

constexpr const char* kPackages =
    "install the Vulkan loader and a driver: on Debian/Ubuntu `apt-get install -y libvulkan1 "
    "mesa-vulkan-drivers` (mesa-vulkan-drivers provides lavapipe, Vulkan on the CPU; on a GPU machine "
    "install the GPU vendor's Vulkan driver)";

Api g_api;
std::mutex g_mutex;
bool g_loaded = false;
char g_load_error[512] = {0};
VkInstance g_instance = VK_NULL_HANDLE;
constexpr uint32_t kMaxDevices = 16;
VkPhysicalDevice g_physical[kMaxDevices];
uint32_t g_num_physical = 0;
Device* g_devices[kMaxDevices] = {nullptr};
char g_default_description[512] = {0};

bool load_locked() {
  if (g_loaded) return true;
  if (g_load_error[0]) return false;
  void* lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) lib = dlopen("libvulkan.so", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    std::snprintf(g_load_error, sizeof(g_load_error), "the Vulkan loader libvulkan.so.1 was not found (%s); %s",
                  dlerror(), kPackages);
    return false;
  }
  g_api.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
  if (g_api.vkGetInstanceProcAddr == nullptr) {
    std::snprintf(g_load_error, sizeof(g_load_error), "libvulkan.so.1 exports no vkGetInstanceProcAddr; %s",
                  kPackages);
    return false;
  }
  g_api.vkCreateInstance =
      reinterpret_cast<PFN_vkCreateInstance>(g_api.vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkCreateInstance"));
  g_api.vkEnumerateInstanceVersion = reinterpret_cast<PFN_vkEnumerateInstanceVersion>(
      g_api.vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkEnumerateInstanceVersion"));
  uint32_t version = VK_API_VERSION_1_0;
  if (g_api.vkEnumerateInstanceVersion) g_api.vkEnumerateInstanceVersion(&version);
  if (version < VK_API_VERSION_1_1) {
    std::snprintf(g_load_error, sizeof(g_load_error),
                  "the Vulkan loader offers version %u.%u; the vulkan backend needs 1.1 or newer; %s",
                  VK_API_VERSION_MAJOR(version), VK_API_VERSION_MINOR(version), kPackages);
    return false;
  }
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "wick";
  app.pEngineName = "wick-vulkan";
  app.apiVersion = VK_API_VERSION_1_1;
  VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  info.pApplicationInfo = &app;
  VkResult r = g_api.vkCreateInstance(&info, nullptr, &g_instance);
  if (r != VK_SUCCESS) {
    std::snprintf(g_load_error, sizeof(g_load_error), "vkCreateInstance failed: %s (no Vulkan driver installed?); %s",
                  result_name(r), kPackages);
    return false;
  }
#define WICK_VK_LOAD(name)                                                                                \
  g_api.name = reinterpret_cast<PFN_##name>(g_api.vkGetInstanceProcAddr(g_instance, #name));               \
  if (g_api.name == nullptr) {                                                                             \
    std::snprintf(g_load_error, sizeof(g_load_error), "the Vulkan loader lacks %s (too old?); %s", #name,   \
                  kPackages);                                                                              \
    return false;                                                                                          \
  }
  WICK_VK_INSTANCE_FUNCTIONS(WICK_VK_LOAD)
  WICK_VK_DEVICE_FUNCTIONS(WICK_VK_LOAD)
#undef WICK_VK_LOAD
  g_num_physical = kMaxDevices;
  r = g_api.vkEnumeratePhysicalDevices(g_instance, &g_num_physical, g_physical);
  if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || g_num_physical == 0) {
    std::snprintf(g_load_error, sizeof(g_load_error), "the Vulkan loader found no physical device (%s); %s",
                  result_name(r), kPackages);
    return false;
  }
  g_loaded = true;
  return true;
}

int type_rank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_OTHER: return 3;
    default: return 4;  // CPU (lavapipe, SwiftShader): only when nothing else exists
  }
}

const char* type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
  }
}

bool has_compute_queue(VkPhysicalDevice pd, uint32_t* family) {
  VkQueueFamilyProperties props[16];
  uint32_t n = 16;
  g_api.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, props);
  for (uint32_t i = 0; i < n; ++i) {
    if (props[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
      *family = i;
      return true;
    }
  }
  return false;
}

// Whether float16 tensors can live in storage buffers on `pd`
// (storageBuffer16BitAccess, core in Vulkan 1.1 as an optional feature);
// when not, writes why into `why`.
bool float16_storage(VkPhysicalDevice pd, char* why, size_t why_size) {
  VkPhysicalDeviceProperties p;
  g_api.vkGetPhysicalDeviceProperties(pd, &p);
  const char* env = std::getenv(kNoFloat16Env);
  if (env && env[0] && std::strcmp(env, "0") != 0) {
    std::snprintf(why, why_size, "storageBuffer16BitAccess is treated as missing (%s=%s)", kNoFloat16Env, env);
    return false;
  }
  if (p.apiVersion < VK_API_VERSION_1_1) {
    // The features2 query and the feature struct are Vulkan 1.1.
    std::snprintf(why, why_size, "the device offers Vulkan %u.%u; float16 storage needs 1.1 with "
                  "storageBuffer16BitAccess", VK_API_VERSION_MAJOR(p.apiVersion), VK_API_VERSION_MINOR(p.apiVersion));
    return false;
  }
  VkPhysicalDevice16BitStorageFeatures f16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  features.pNext = &f16;
  g_api.vkGetPhysicalDeviceFeatures2(pd, &features);
  if (!f16.storageBuffer16BitAccess) {
    std::snprintf(why, why_size, "the driver reports no storageBuffer16BitAccess (VK_KHR_16bit_storage)");
    return false;
  }
  return true;
}

void describe(VkPhysicalDevice pd, char* out, size_t size) {
  VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  props.pNext = &driver;
  g_api.vkGetPhysicalDeviceProperties2(pd, &props);
  const VkPhysicalDeviceProperties& p = props.properties;
  char why[160];
  bool f16 = float16_storage(pd, why, sizeof(why));
  std::snprintf(out, size, "%s (%s), driver %s %.200s, Vulkan %u.%u.%u, float16 storage %s%s", p.deviceName,
                type_name(p.deviceType), driver.driverName[0] ? driver.driverName : "?", driver.driverInfo,
                VK_API_VERSION_MAJOR(p.apiVersion), VK_API_VERSION_MINOR(p.apiVersion),
                VK_API_VERSION_PATCH(p.apiVersion), f16 ? "yes" : "no",
                p.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? " [no GPU: Vulkan on the CPU]" : "");
}

// Index of the device to use, or -1 with an error.
int choose(const char* request, char* error, size_t error_size) {
  const char* env = std::getenv("WICK_VULKAN_DEVICE");
  if (env && env[0]) request = env;
  if (request && request[0]) {
    char* end = nullptr;
    long index = std::strtol(request, &end, 10);
    if (end && *end == '\0') {
      if (index < 0 || index >= static_cast<long>(g_num_physical)) {
        std::snprintf(error, error_size, "Vulkan device %ld was requested but this machine has %u device(s)",
                      index, g_num_physical);
        return -1;
      }
      return static_cast<int>(index);
    }
    for (uint32_t i = 0; i < g_num_physical; ++i) {
      VkPhysicalDeviceProperties p;
      g_api.vkGetPhysicalDeviceProperties(g_physical[i], &p);
      if (std::strstr(p.deviceName, request)) return static_cast<int>(i);
    }
    std::snprintf(error, error_size, "no Vulkan device's name contains '%s' (set by %s)", request,
                  env && env[0] ? "WICK_VULKAN_DEVICE" : "the compile spec 'device'");
    return -1;
  }
  int best = -1, best_rank = 99;
  for (uint32_t i = 0; i < g_num_physical; ++i) {
    VkPhysicalDeviceProperties p;
    g_api.vkGetPhysicalDeviceProperties(g_physical[i], &p);
    uint32_t family;
    if (!has_compute_queue(g_physical[i], &family)) continue;
    if (type_rank(p.deviceType) < best_rank) {
      best_rank = type_rank(p.deviceType);
      best = static_cast<int>(i);
    }
  }
  if (best < 0) std::snprintf(error, error_size, "no Vulkan device has a compute queue");
  return best;
}

}  // namespace

const Api& api() { return g_api; }

bool load(char* reason, size_t reason_size) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (load_locked()) return true;
  std::snprintf(reason, reason_size, "%s", g_load_error);
  return false;
}

Device* device(const char* request, char* error, size_t error_size) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!load_locked()) {
    std::snprintf(error, error_size, "%s", g_load_error);
    return nullptr;
  }
  int index = choose(request, error, error_size);
  if (index < 0) return nullptr;
  if (g_devices[index]) return g_devices[index];
  Device* d = new Device();
  d->physical = g_physical[index];
  if (!has_compute_queue(d->physical, &d->queue_family)) {
    std::snprintf(error, error_size, "Vulkan device %d has no compute queue", index);
    delete d;
    return nullptr;
  }
  g_api.vkGetPhysicalDeviceProperties(d->physical, &d->properties);
  g_api.vkGetPhysicalDeviceMemoryProperties(d->physical, &d->memory);
  describe(d->physical, d->description, sizeof(d->description));
  d->float16_storage = float16_storage(d->physical, d->float16_missing, sizeof(d->float16_missing));
  // Enabled whenever present: it costs nothing, and only plans that store
  // float16 use it. Everything else the backend needs is core Vulkan 1.0.
  VkPhysicalDevice16BitStorageFeatures f16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  f16.storageBuffer16BitAccess = VK_TRUE;
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queue.queueFamilyIndex = d->queue_family;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  VkDeviceCreateInfo info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue;
  if (d->float16_storage) info.pNext = &f16;
  VkResult r = g_api.vkCreateDevice(d->physical, &info, nullptr, &d->device);
  if (r != VK_SUCCESS) {
    std::snprintf(error, error_size, "vkCreateDevice failed on %s: %s", d->description, result_name(r));
    delete d;
    return nullptr;
  }
  g_api.vkGetDeviceQueue(d->device, d->queue_family, 0, &d->queue);
  g_devices[index] = d;
  return d;
}

const char* describe_default_device() {
  std::lock_guard<std::mutex> lock(g_mutex);
  // Never null: Wick's registry copies the string.
  if (!load_locked()) return g_load_error;
  if (g_default_description[0]) return g_default_description;
  char error[256];
  int index = choose(nullptr, error, sizeof(error));
  if (index < 0) {
    std::snprintf(g_default_description, sizeof(g_default_description), "%s", error);
  } else {
    describe(g_physical[index], g_default_description, sizeof(g_default_description));
    if (g_num_physical > 1) {
      size_t n = std::strlen(g_default_description);
      std::snprintf(g_default_description + n, sizeof(g_default_description) - n,
                    "; device %d of %u (choose with WICK_VULKAN_DEVICE or compile spec 'device')", index,
                    g_num_physical);
    }
  }
  return g_default_description;
}

const char* result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult error";
  }
}

}  // namespace wick_vulkan
