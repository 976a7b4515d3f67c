/* opencl-errors.c — every OpenCL status code and every CLBlast status code
 * with a name and a sentence, in one table: CLBlast's codes are OpenCL's
 * where both define one (CLBlastOpenCLOutOfResources = CL_OUT_OF_RESOURCES),
 * and its own live in ranges OpenCL does not use (-1024…, -2039…). */
#include <clblast_c.h>
#include <stdio.h>

#include "opencl-private.h"

typedef struct {
    int         code;
    const char *name;
    const char *message;
} code_entry;

static const code_entry codes[] = {
    { CL_SUCCESS, "CL_SUCCESS", "success" },
    { CL_DEVICE_NOT_FOUND, "CL_DEVICE_NOT_FOUND", "no OpenCL device of the requested type" },
    { CL_DEVICE_NOT_AVAILABLE, "CL_DEVICE_NOT_AVAILABLE", "the device is busy or switched off" },
    { CL_COMPILER_NOT_AVAILABLE, "CL_COMPILER_NOT_AVAILABLE", "the driver has no OpenCL C compiler" },
    { CL_MEM_OBJECT_ALLOCATION_FAILURE, "CL_MEM_OBJECT_ALLOCATION_FAILURE",
      "the device ran out of memory for a buffer" },
    { CL_OUT_OF_RESOURCES, "CL_OUT_OF_RESOURCES", "the device ran out of resources (memory or a kernel fault)" },
    { CL_OUT_OF_HOST_MEMORY, "CL_OUT_OF_HOST_MEMORY", "the driver ran out of host memory" },
    { CL_PROFILING_INFO_NOT_AVAILABLE, "CL_PROFILING_INFO_NOT_AVAILABLE", "profiling information is not available" },
    { CL_MEM_COPY_OVERLAP, "CL_MEM_COPY_OVERLAP", "source and destination of a copy overlap" },
    { CL_IMAGE_FORMAT_MISMATCH, "CL_IMAGE_FORMAT_MISMATCH", "image formats do not match" },
    { CL_IMAGE_FORMAT_NOT_SUPPORTED, "CL_IMAGE_FORMAT_NOT_SUPPORTED", "image format not supported" },
    { CL_BUILD_PROGRAM_FAILURE, "CL_BUILD_PROGRAM_FAILURE", "a kernel program failed to compile" },
    { CL_MAP_FAILURE, "CL_MAP_FAILURE", "a buffer could not be mapped" },
    { CL_MISALIGNED_SUB_BUFFER_OFFSET, "CL_MISALIGNED_SUB_BUFFER_OFFSET", "a sub-buffer offset is misaligned" },
    { CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
      "an earlier command failed" },
    { CL_COMPILE_PROGRAM_FAILURE, "CL_COMPILE_PROGRAM_FAILURE", "a kernel program failed to compile" },
    { CL_LINKER_NOT_AVAILABLE, "CL_LINKER_NOT_AVAILABLE", "the driver has no OpenCL linker" },
    { CL_LINK_PROGRAM_FAILURE, "CL_LINK_PROGRAM_FAILURE", "a kernel program failed to link" },
    { CL_DEVICE_PARTITION_FAILED, "CL_DEVICE_PARTITION_FAILED", "the device could not be partitioned" },
    { CL_KERNEL_ARG_INFO_NOT_AVAILABLE, "CL_KERNEL_ARG_INFO_NOT_AVAILABLE", "kernel argument info is not available" },
    { CL_INVALID_VALUE, "CL_INVALID_VALUE", "an argument has an invalid value" },
    { CL_INVALID_DEVICE_TYPE, "CL_INVALID_DEVICE_TYPE", "invalid device type" },
    { CL_INVALID_PLATFORM, "CL_INVALID_PLATFORM", "invalid platform" },
    { CL_INVALID_DEVICE, "CL_INVALID_DEVICE", "invalid device" },
    { CL_INVALID_CONTEXT, "CL_INVALID_CONTEXT", "invalid context" },
    { CL_INVALID_QUEUE_PROPERTIES, "CL_INVALID_QUEUE_PROPERTIES", "unsupported command-queue properties" },
    { CL_INVALID_COMMAND_QUEUE, "CL_INVALID_COMMAND_QUEUE", "invalid command queue" },
    { CL_INVALID_HOST_PTR, "CL_INVALID_HOST_PTR", "invalid host pointer" },
    { CL_INVALID_MEM_OBJECT, "CL_INVALID_MEM_OBJECT", "invalid buffer" },
    { CL_INVALID_IMAGE_FORMAT_DESCRIPTOR, "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR", "invalid image format" },
    { CL_INVALID_IMAGE_SIZE, "CL_INVALID_IMAGE_SIZE", "invalid image size" },
    { CL_INVALID_SAMPLER, "CL_INVALID_SAMPLER", "invalid sampler" },
    { CL_INVALID_BINARY, "CL_INVALID_BINARY", "the program binary is not valid for this device" },
    { CL_INVALID_BUILD_OPTIONS, "CL_INVALID_BUILD_OPTIONS", "invalid compiler options" },
    { CL_INVALID_PROGRAM, "CL_INVALID_PROGRAM", "invalid program" },
    { CL_INVALID_PROGRAM_EXECUTABLE, "CL_INVALID_PROGRAM_EXECUTABLE", "the program was not built" },
    { CL_INVALID_KERNEL_NAME, "CL_INVALID_KERNEL_NAME", "no kernel of that name in the program" },
    { CL_INVALID_KERNEL_DEFINITION, "CL_INVALID_KERNEL_DEFINITION", "invalid kernel definition" },
    { CL_INVALID_KERNEL, "CL_INVALID_KERNEL", "invalid kernel" },
    { CL_INVALID_ARG_INDEX, "CL_INVALID_ARG_INDEX", "invalid kernel argument index" },
    { CL_INVALID_ARG_VALUE, "CL_INVALID_ARG_VALUE", "invalid kernel argument value" },
    { CL_INVALID_ARG_SIZE, "CL_INVALID_ARG_SIZE", "invalid kernel argument size" },
    { CL_INVALID_KERNEL_ARGS, "CL_INVALID_KERNEL_ARGS", "kernel arguments are missing" },
    { CL_INVALID_WORK_DIMENSION, "CL_INVALID_WORK_DIMENSION", "invalid number of work dimensions" },
    { CL_INVALID_WORK_GROUP_SIZE, "CL_INVALID_WORK_GROUP_SIZE", "the work-group size is too large for the device" },
    { CL_INVALID_WORK_ITEM_SIZE, "CL_INVALID_WORK_ITEM_SIZE", "a work-item dimension is too large for the device" },
    { CL_INVALID_GLOBAL_OFFSET, "CL_INVALID_GLOBAL_OFFSET", "invalid global offset" },
    { CL_INVALID_EVENT_WAIT_LIST, "CL_INVALID_EVENT_WAIT_LIST", "invalid event wait list" },
    { CL_INVALID_EVENT, "CL_INVALID_EVENT", "invalid event" },
    { CL_INVALID_OPERATION, "CL_INVALID_OPERATION", "invalid operation" },
    { CL_INVALID_GL_OBJECT, "CL_INVALID_GL_OBJECT", "invalid GL object" },
    { CL_INVALID_BUFFER_SIZE, "CL_INVALID_BUFFER_SIZE", "invalid buffer size (zero or above the device's limit)" },
    { CL_INVALID_MIP_LEVEL, "CL_INVALID_MIP_LEVEL", "invalid mip level" },
    { CL_INVALID_GLOBAL_WORK_SIZE, "CL_INVALID_GLOBAL_WORK_SIZE", "invalid global work size" },
    { CL_INVALID_PROPERTY, "CL_INVALID_PROPERTY", "invalid property" },
    { CL_INVALID_IMAGE_DESCRIPTOR, "CL_INVALID_IMAGE_DESCRIPTOR", "invalid image descriptor" },
    { CL_INVALID_COMPILER_OPTIONS, "CL_INVALID_COMPILER_OPTIONS", "invalid compiler options" },
    { CL_INVALID_LINKER_OPTIONS, "CL_INVALID_LINKER_OPTIONS", "invalid linker options" },
    { CL_INVALID_DEVICE_PARTITION_COUNT, "CL_INVALID_DEVICE_PARTITION_COUNT", "invalid device partition count" },
    { -1001, "CL_PLATFORM_NOT_FOUND_KHR", "no OpenCL platform is installed (no ICD found)" },
    /* CLBlast's own codes */
    { CLBlastNotImplemented, "CLBlastNotImplemented", "CLBlast does not implement this routine" },
    { CLBlastInvalidMatrixA, "CLBlastInvalidMatrixA", "matrix A is not a valid buffer" },
    { CLBlastInvalidMatrixB, "CLBlastInvalidMatrixB", "matrix B is not a valid buffer" },
    { CLBlastInvalidMatrixC, "CLBlastInvalidMatrixC", "matrix C is not a valid buffer" },
    { CLBlastInvalidVectorX, "CLBlastInvalidVectorX", "vector X is not a valid buffer" },
    { CLBlastInvalidVectorY, "CLBlastInvalidVectorY", "vector Y is not a valid buffer" },
    { CLBlastInvalidDimension, "CLBlastInvalidDimension", "matrix dimensions must be positive" },
    { CLBlastInvalidLeadDimA, "CLBlastInvalidLeadDimA", "the leading dimension of A is too small" },
    { CLBlastInvalidLeadDimB, "CLBlastInvalidLeadDimB", "the leading dimension of B is too small" },
    { CLBlastInvalidLeadDimC, "CLBlastInvalidLeadDimC", "the leading dimension of C is too small" },
    { CLBlastInvalidIncrementX, "CLBlastInvalidIncrementX", "the increment of X is zero" },
    { CLBlastInvalidIncrementY, "CLBlastInvalidIncrementY", "the increment of Y is zero" },
    { CLBlastInsufficientMemoryA, "CLBlastInsufficientMemoryA", "the buffer of matrix A is too small" },
    { CLBlastInsufficientMemoryB, "CLBlastInsufficientMemoryB", "the buffer of matrix B is too small" },
    { CLBlastInsufficientMemoryC, "CLBlastInsufficientMemoryC", "the buffer of matrix C is too small" },
    { CLBlastInsufficientMemoryX, "CLBlastInsufficientMemoryX", "the buffer of vector X is too small" },
    { CLBlastInsufficientMemoryY, "CLBlastInsufficientMemoryY", "the buffer of vector Y is too small" },
    { CLBlastInsufficientMemoryTemp, "CLBlastInsufficientMemoryTemp", "the GEMM temporary buffer is too small" },
    { CLBlastInvalidBatchCount, "CLBlastInvalidBatchCount", "the batch count must be positive" },
    { CLBlastInvalidOverrideKernel, "CLBlastInvalidOverrideKernel", "parameters overridden for an unknown kernel" },
    { CLBlastMissingOverrideParameter, "CLBlastMissingOverrideParameter", "an override parameter is missing" },
    { CLBlastInvalidLocalMemUsage, "CLBlastInvalidLocalMemUsage", "the device has too little local memory" },
    { CLBlastNoHalfPrecision, "CLBlastNoHalfPrecision", "the device has no half-precision support" },
    { CLBlastNoDoublePrecision, "CLBlastNoDoublePrecision", "the device has no double-precision support" },
    { CLBlastInvalidVectorScalar, "CLBlastInvalidVectorScalar", "the scalar is not a valid buffer" },
    { CLBlastInsufficientMemoryScalar, "CLBlastInsufficientMemoryScalar", "the scalar's buffer is too small" },
    { CLBlastDatabaseError, "CLBlastDatabaseError", "CLBlast has no tuning parameters for this device" },
    { CLBlastUnknownError, "CLBlastUnknownError", "CLBlast reported an unspecified error" },
    { CLBlastUnexpectedError, "CLBlastUnexpectedError", "CLBlast reported an unexpected error" },
};

static const code_entry *
find(int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code)
            return &codes[i];
    return NULL;
}

const char *
sq_cl_code_name(int code)
{
    const code_entry *e = find(code);
    return e ? e->name : "unknown";
}

const char *
sq_cl_code_message(int code)
{
    const code_entry *e = find(code);
    return e ? e->message : "an error code neither OpenCL nor CLBlast defines";
}

sq_status
sq_cl_code_status(int code)
{
    switch (code) {
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_OUT_OF_RESOURCES:
    case CL_OUT_OF_HOST_MEMORY:
    case CL_INVALID_BUFFER_SIZE:
        return SQ_ERR_NOMEM;
    default:
        return SQ_ERR_BACKEND;
    }
}

sq_status
sq_cl_fail(sq_error *err, int code, const char *what)
{
    return sq_error_set(err, sq_cl_code_status(code), "OpenCL: %s: %s (%d): %s", what, sq_cl_code_name(code), code,
                        sq_cl_code_message(code));
}
