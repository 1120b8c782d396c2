# Airflow image with this project installed (used by docker-compose.yml for a team install).
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root . /opt/project
# Editable, so the DAGs, dbt project and package code resolve from /opt/project.
RUN pip install --no-cache-dir -e /opt/project
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/project/dags
