"""The protocol both engines' kill-and-resume tests run: minimise, NVT, then an NPT ramp, on the tiny box."""

REPORT_PS = 0.02
DYNAMICS_STAGES = ("02_nvt", "03_ramp")
KILL_PROTOCOL = {
    "name": "kill", "seed": 3,
    "stage": [
        {"kind": "minimize", "max_iterations": 20},
        {"kind": "nvt", "temperature_K": 298.0, "duration_ps": 2.0, "timestep_fs": 2.0,
         "report_interval_ps": REPORT_PS},
        {"kind": "ramp", "ensemble": "npt", "start_temperature_K": 298.0,
         "end_temperature_K": 320.0, "duration_ps": 2.0, "timestep_fs": 2.0,
         "report_interval_ps": REPORT_PS, "barostat_interval_steps": 10},
    ]}
