import { allPodSpecs } from "../lib/pods.ts";
import { arr, rec, str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** Volume sources the restricted Pod Security Standard allows. */
const ALLOWED = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

export const pssVolumeTypes: Rule = {
  id: "pss-volume-types",
  title: "Only restricted-profile volume types",
  severity: "error",
  why: "In-tree volume plugins (nfs, iscsi, rbd, gitRepo, ...) are mounted by the kubelet with node privileges; the restricted profile allows only volumes that go through a claim, CSI or the API.",
  fix: "Use a PersistentVolumeClaim (or a CSI inline volume), emptyDir, configMap, secret, projected or downwardAPI volume. hostPath is reported by pss-host-path.",
  check(ctx) {
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      arr(pod.spec.volumes).forEach((v, i) => {
        const vol = rec(v);
        for (const type of Object.keys(vol)) {
          if (type === "name" || type === "hostPath" || ALLOWED.has(type)) continue;
          out.push(violation(this, pod.owner, `${pod.path}/volumes/${i}/${type}`, `volume '${str(vol.name) ?? `#${i}`}' is of type ${type}, which the restricted profile does not allow`));
        }
      });
    }
    return out;
  },
};
