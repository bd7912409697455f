package io.sidewinder.ssm.kernels.cuda;

/** A CUDA driver call returned an error; the message names the call and the error (cuGetErrorName). */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int code;
    private final String errorName;

    CudaException(String call, int code, String errorName) {
        super(call + " failed: " + errorName + " (" + code + ")");
        this.code = code;
        this.errorName = errorName;
    }

    public int code() {
        return code;
    }

    public String errorName() {
        return errorName;
    }
}
