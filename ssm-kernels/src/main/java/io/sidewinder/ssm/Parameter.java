package io.sidewinder.ssm;

import java.util.Arrays;

/** A named fp32 tensor of model weights, row-major. The data array is shared, not copied. */
public record Parameter(String name, int[] shape, float[] data) {
    public Parameter {
        long size = 1;
        for (int s : shape) {
            if (s <= 0) {
                throw new IllegalArgumentException(name + ": non-positive dimension in " + Arrays.toString(shape));
            }
            size *= s;
        }
        if (size != data.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " holds " + size
                    + " values, data has " + data.length);
        }
        shape = shape.clone();
    }

    public int size() {
        return data.length;
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    public Parameter copy() {
        return new Parameter(name, shape, data.clone());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Parameter p && name.equals(p.name) && Arrays.equals(shape, p.shape)
                && Arrays.equals(data, p.data);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
