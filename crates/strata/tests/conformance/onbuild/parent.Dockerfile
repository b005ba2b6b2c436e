FROM bb:local
ONBUILD COPY trigger.txt /triggered/
ONBUILD RUN echo fired > /triggered/run.txt
ONBUILD ENV TRIGGERED=yes
RUN echo parent > /parent.txt
