import io.sidewinder.ssm.*;
public class Cmp { public static void main(String[] a) throws Exception {
  var s1 = ModelSnapshots.read(java.nio.file.Path.of(a[0])); var s2 = ModelSnapshots.read(java.nio.file.Path.of(a[1]));
  System.out.println("metrics simd " + s1.getMetrics()); System.out.println("metrics cuda " + s2.getMetrics());
  System.out.println("prov cuda " + s2.getProvenance());
  var p1 = ModelSnapshots.toParameters(s1); var p2 = ModelSnapshots.toParameters(s2);
  double maxAbs = 0, maxRel = 0; long n = 0, diff = 0;
  var l2 = p2.all().iterator();
  for (var x : p1.all()) { var y = l2.next(); float[] u = x.data(), v = y.data();
    for (int i = 0; i < u.length; i++) { n++; if (u[i] != v[i]) diff++; double d = Math.abs(u[i]-v[i]); maxAbs = Math.max(maxAbs, d); maxRel = Math.max(maxRel, d / Math.max(1e-3, Math.abs(u[i]))); } }
  System.out.printf("parameters %d, differing %d, max |diff| %.3e, max rel (floor 1e-3) %.3e%n", n, diff, maxAbs, maxRel);
}}
